import type { ApplyResult, BoardRef, BoardTop, WorkoutChange } from './model.js';

/**
 * How long the store remembers that a (workout, logged|deleted) fact was applied.
 * Redeliveries come within minutes (backoff, ack wait) and relay re-publishes
 * within the broker's 2-minute duplicate window; a month is a wide margin that
 * still lets the markers of old workouts go.
 * @default 35 days
 */
export const DEDUPE_TTL_MS = 35 * 24 * 60 * 60 * 1000;

/**
 * The leaderboard read model port: one sorted set per board (see boards.ts for
 * boards, periods and amounts). Two adapters, Redis and in-process, pass one
 * contract suite (test/leaderboards/store.contract.test.ts).
 *
 * Ordering: score descending; equal scores by user id ascending (byte order),
 * which a rebuild reproduces exactly, unlike "who reached it first".
 */
export interface LeaderboardStore {
  /**
   * Applies a workout's amounts to every board it counts on (`planChange`), at
   * most once per (workout id, kind), atomically: either every board and the
   * dedupe marker change, or none. A deletion that arrives before its logging
   * subtracts first; the logging then adds it back, so any order ends equal.
   * Nothing for an erased user (outcome 'erased').
   */
  apply(change: WorkoutChange, now?: Date): Promise<ApplyResult>;
  /**
   * Removes the user from every board that can hold scores (boards.ts liveBoards)
   * and remembers the erasure for DEDUPE_TTL_MS, so that a late event of theirs
   * (outcome 'erased') brings them back nowhere. Idempotent.
   * @returns the ids of the boards the user was on
   */
  eraseUser(userId: string, now?: Date): Promise<string[]>;
  /** Every user on a board that can hold scores at `now` (the accounts audit). */
  userIds(now?: Date): Promise<Set<string>>;
  /** The best `n` users with a positive score, and when the board last changed. */
  top(ref: BoardRef, n: number): Promise<BoardTop>;
  /**
   * Replaces a board's content at once (the rebuild): `units` are thousandths per
   * user (boards.ts SCORE_SCALE); users at 0 or below are left out.
   */
  replace(ref: BoardRef, units: ReadonlyMap<string, number>, now?: Date): Promise<void>;
  /**
   * Records changes as already applied without touching any board, so that their
   * events count as duplicates when they arrive: for workouts a rebuild has just
   * counted from the table while their events may still be on their way.
   */
  markApplied(changes: readonly Pick<WorkoutChange, 'workoutId' | 'kind'>[], now?: Date): Promise<void>;
  /** When the board's keys expire: null for never, undefined when the board does not exist. */
  expiry(ref: BoardRef): Promise<Date | null | undefined>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
