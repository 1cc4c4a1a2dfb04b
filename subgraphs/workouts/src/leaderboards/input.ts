import { badUserInput } from '@fitness/server-kit';
import type { LeaderboardInput } from '../__generated__/resolvers-types.js';
import type { BoardSpec } from './model.js';

/** Entries one board request may ask for. @default 10 (the schema's default) */
export const MAX_BOARD_ENTRIES = 100;

/** A LeaderboardInput checked: BAD_USER_INPUT unless first is 1 to 100. */
export function parseBoardInput(input: LeaderboardInput): { spec: BoardSpec; first: number } {
  const first = input.first ?? 10;
  if (!Number.isInteger(first) || first < 1 || first > MAX_BOARD_ENTRIES) {
    throw badUserInput(`board.first must be an integer from 1 to ${MAX_BOARD_ENTRIES}.`, {
      field: 'board.first',
    });
  }
  return { spec: { metric: input.metric, period: input.period, region: input.region ?? null }, first };
}
