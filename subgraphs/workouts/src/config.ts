import { authEnv, checkedTokenSettings } from '@fitness/auth';
import { optionalUrl, subgraphConfig, z } from '@fitness/server-kit';

/** A PostgreSQL interval as `<n> <unit>`, e.g. '30 days'; strict so typos fail at start-up. */
const INTERVAL = /^\s*(\d+)\s*(minute|hour|day|week|month|year)s?\s*$/i;

const UNIT_DAYS: Record<string, number> = {
  minute: 1 / 1440,
  hour: 1 / 24,
  day: 1,
  week: 7,
  month: 30,
  year: 365,
};

/** Approximate length in days of an interval that matches INTERVAL (for range checks only). */
export function intervalDays(value: string): number {
  const [, n, unit] = INTERVAL.exec(value) as RegExpExecArray;
  return Number(n) * UNIT_DAYS[unit!.toLowerCase()]!;
}

const intervalOf = (minDays: number, why: string) =>
  z
    .string()
    .refine(
      (v) => INTERVAL.test(v),
      'expected "<n> <unit>", unit one of minutes, hours, days, weeks, months, years',
    )
    .refine(
      (v) => !INTERVAL.test(v) || intervalDays(v) >= minDays,
      `must be at least ${minDays} days: ${why}`,
    )
    .transform((v) => v.trim().toLowerCase());

const interval = (fallback: string, minDays: number, why: string) =>
  z.string().default(fallback).pipe(intervalOf(minDays, why));

/** RECENT_TRAINING_DAYS in WorkoutsDataSource: recent training reads raw sets that far back. */
const RECENT_TRAINING_WINDOW_DAYS = 28;

/** The only reader of process.env in this package. */
export const loadConfig = subgraphConfig('workouts', {
  port: 4002,
  env: {
    /** Unset: an embedded PGlite database with TimescaleDB, kept in WORKOUTS_DATA_DIR. */
    WORKOUTS_DATABASE_URL: optionalUrl(),
    WORKOUTS_DATA_DIR: z.string().default('.data/workouts'),
    /**
     * TimescaleDB only (see README, "Stats and storage"). Raw sets older than this are
     * compressed; newer ones, which recent training reads and late syncs write, stay
     * row-oriented.
     */
    WORKOUTS_COMPRESS_AFTER: interval('30 days', 1, 'recent sets stay uncompressed'),
    /**
     * TimescaleDB only. Raw sets older than this are dropped; "none" (the default)
     * keeps them: they are the user's training log (Workout.sets) and cost little
     * once compressed. Totals never depend on sets (they live on workout rows).
     */
    WORKOUTS_SET_RETENTION: z
      .string()
      .optional()
      .transform((v) => (v === undefined || /^\s*(none|off|disabled)?\s*$/i.test(v) ? null : v))
      .pipe(intervalOf(RECENT_TRAINING_WINDOW_DAYS, 'recent training reads 28 days of sets').nullable()),
    /**
     * TimescaleDB only. Days newer than this are aggregated from raw workouts at
     * query time; older days are read from the continuous aggregate.
     */
    WORKOUTS_STATS_REALTIME_WINDOW: interval('7 days', 1, 'the aggregate materializes whole days'),
    /** Leaderboards and their change notices; unset: in process (single-instance mode). */
    REDIS_URL: optionalUrl(),
    /** Live leaderboard snapshots per board and second at most (latest wins). */
    LEADERBOARD_MAX_UPDATES_PER_SECOND: z.coerce.number().positive().max(100).default(4),
    ...authEnv,
  },
  embeddedStores: (c) => ({
    WORKOUTS_DATABASE_URL: { url: c.WORKOUTS_DATABASE_URL, standIn: 'an embedded PGlite database' },
    REDIS_URL: { url: c.REDIS_URL, standIn: 'leaderboards and their live updates in this process only' },
  }),
  build: (c, settings, checks) => ({
    databaseUrl: c.WORKOUTS_DATABASE_URL,
    dataDir: c.WORKOUTS_DATA_DIR,
    redisUrl: c.REDIS_URL,
    leaderboardMaxUpdatesPerSecond: c.LEADERBOARD_MAX_UPDATES_PER_SECOND,
    policies: {
      compressSetsAfter: c.WORKOUTS_COMPRESS_AFTER,
      setRetention: c.WORKOUTS_SET_RETENTION,
      statsRealtimeWindow: c.WORKOUTS_STATS_REALTIME_WINDOW,
    },
    tokens: checkedTokenSettings(c, settings.production, checks),
  }),
});

export type Config = ReturnType<typeof loadConfig>;
