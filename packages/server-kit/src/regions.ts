/**
 * The deployment regions of the client contract (enum Region), for every package
 * that reads or writes one: token claims, accounts, leaderboards.
 */
export const REGIONS = ['EU', 'US', 'APAC'] as const;
export type Region = (typeof REGIONS)[number];

export const isRegion = (value: unknown): value is Region =>
  typeof value === 'string' && (REGIONS as readonly string[]).includes(value);
