import type { LeaderboardMetric, LeaderboardPeriod, Region } from '../__generated__/resolvers-types.js';

export type { LeaderboardMetric, LeaderboardPeriod, Region };

export const METRICS: readonly LeaderboardMetric[] = [
  'VOLUME_KG',
  'DURATION_SEC',
  'DISTANCE_M',
  'WORKOUTS',
  'CALORIES',
];
export const PERIODS: readonly LeaderboardPeriod[] = ['DAY', 'WEEK', 'MONTH', 'ALL_TIME'];

/** A board as clients name it: the period start is implied ("the current one"). */
export interface BoardSpec {
  metric: LeaderboardMetric;
  period: LeaderboardPeriod;
  /** null: the all-regions board */
  region: Region | null;
}

/** One concrete board: a spec in one period (periodStart null for ALL_TIME). */
export interface BoardRef extends BoardSpec {
  periodStart: Date | null;
}

/** What the store keeps for one board: user ids with scores, best first. */
export interface BoardTop {
  entries: { userId: string; score: number }[];
  /** When an event or a rebuild last changed the board; null when never. */
  updatedAt: Date | null;
}

export interface LeaderboardEntryRecord {
  rank: number;
  score: number;
  userId: string;
}

/** The parent of Leaderboard fields (codegen mapper). */
export interface LeaderboardSnapshot extends BoardRef {
  updatedAt: Date;
  entries: LeaderboardEntryRecord[];
}

/** Per-workout amounts the boards sum, as carried by workouts.logged / workouts.deleted v1. */
export interface WorkoutTotals {
  durationSec: number;
  volumeKg: number;
  distanceM: number;
  calories: number;
}

/** One workout entering (logged) or leaving (deleted) the boards. */
export interface WorkoutChange extends WorkoutTotals {
  kind: 'logged' | 'deleted';
  /** the event's id, kept beside the dedupe marker for tracing */
  eventId: string;
  workoutId: string;
  userId: string;
  /** null or unknown: the workout counts on the all-regions boards only */
  region: Region | null;
  startedAt: Date;
}

export interface ApplyResult {
  /** 'erased': the workout's user was erased (a late event of a deleted account): nothing changed. */
  outcome: 'applied' | 'duplicate' | 'erased';
  /** Ids ({@link boardId}) of the boards the change touched; empty for a duplicate. */
  boards: string[];
}
