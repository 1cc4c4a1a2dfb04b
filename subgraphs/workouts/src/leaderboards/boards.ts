import { REGIONS } from '@fitness/server-kit';
import { bucketStart, nextBucket } from '../buckets.js';
import {
  type BoardRef,
  type BoardSpec,
  type LeaderboardMetric,
  type LeaderboardPeriod,
  METRICS,
  PERIODS,
  type Region,
  type WorkoutChange,
  type WorkoutTotals,
} from './model.js';

/**
 * Pure board arithmetic shared by both store adapters, the consumer, the
 * subscription manager and the rebuild, so that all of them agree on periods,
 * keys and amounts to the last digit.
 */

/**
 * Scores are kept as integers in thousandths of the metric's unit (grams, metres
 * x 1000, ...). Integer sums of doubles are exact up to 2^53, so adding and later
 * subtracting a workout returns a board to exactly where it was, and a rebuild's
 * SQL sum equals the incremental result digit for digit.
 */
export const SCORE_SCALE = 1000;

/**
 * How long a DAY/WEEK/MONTH board outlives its period: late syncs (a workout
 * logged offline yesterday) still land on yesterday's board, and the board stays
 * readable for "last period's winners" for a while.
 * @default 2 days
 */
export const PERIOD_GRACE_MS = 2 * 24 * 60 * 60 * 1000;

/**
 * Rounds half to even, like PostgreSQL's round(double precision) (rint): the
 * rebuild rounds in SQL, the consumer here, and both must round alike.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The integer amount (thousandths) one workout adds to a board of the metric. */
export function unitsOf(metric: LeaderboardMetric, totals: WorkoutTotals): number {
  switch (metric) {
    case 'WORKOUTS':
      return SCORE_SCALE;
    case 'DURATION_SEC':
      return roundHalfEven(totals.durationSec * SCORE_SCALE);
    case 'VOLUME_KG':
      return roundHalfEven(totals.volumeKg * SCORE_SCALE);
    case 'DISTANCE_M':
      return roundHalfEven(totals.distanceM * SCORE_SCALE);
    case 'CALORIES':
      return roundHalfEven(totals.calories * SCORE_SCALE);
  }
}

/** The SQL expression of {@link unitsOf} over a `workouts` row. */
export function unitsSql(metric: LeaderboardMetric): string {
  switch (metric) {
    case 'WORKOUTS':
      return `${SCORE_SCALE}::float8`;
    case 'DURATION_SEC':
      return `round(duration_sec::float8 * ${SCORE_SCALE})`;
    case 'VOLUME_KG':
      return `round(volume_kg * ${SCORE_SCALE})`;
    case 'DISTANCE_M':
      return `round(coalesce(distance_m, 0) * ${SCORE_SCALE})`;
    case 'CALORIES':
      return `round(coalesce(calories, 0) * ${SCORE_SCALE})`;
  }
}

export const scoreOf = (units: number): number => units / SCORE_SCALE;

/** UTC calendar periods: weeks start on Monday (buckets.ts), months on the 1st. */
export function periodStartOf(period: LeaderboardPeriod, t: Date): Date | null {
  return period === 'ALL_TIME' ? null : bucketStart(t, period);
}

export function periodEndOf(period: LeaderboardPeriod, start: Date | null): Date | null {
  return period === 'ALL_TIME' || start === null ? null : nextBucket(start, period);
}

/** When a board's keys expire: its period's end plus the grace; null (never) for ALL_TIME. */
export function expiresAt(ref: BoardRef, graceMs = PERIOD_GRACE_MS): Date | null {
  const end = periodEndOf(ref.period, ref.periodStart);
  return end === null ? null : new Date(end.getTime() + graceMs);
}

/** The board a spec names at instant `now`. */
export function currentBoard(spec: BoardSpec, now: Date): BoardRef {
  return { ...spec, periodStart: periodStartOf(spec.period, now) };
}

/**
 * A board's stable name: `VOLUME_KG:WEEK:2025-01-06:EU`, `WORKOUTS:ALL_TIME:-:ALL`.
 * Used in store keys, in change notices and as the subscription group key.
 */
export function boardId(ref: BoardRef): string {
  const start = ref.periodStart ? ref.periodStart.toISOString().slice(0, 10) : '-';
  return `${ref.metric}:${ref.period}:${start}:${ref.region ?? 'ALL'}`;
}

/** One board a change moves, by how much (signed thousandths), until when its keys live. */
export interface BoardDelta {
  ref: BoardRef;
  id: string;
  delta: number;
  expiresAt: Date | null;
}

/**
 * Every board a workout counts on: each metric with a non-zero amount, each
 * period holding its start (by startedAt, not by when it was logged), on the
 * all-regions board and on its region's. Boards whose keys have already expired
 * at `now` are left out, so that a very late event never resurrects a board
 * holding only itself.
 */
export function planChange(change: WorkoutChange, now: Date, graceMs = PERIOD_GRACE_MS): BoardDelta[] {
  const sign = change.kind === 'logged' ? 1 : -1;
  const regions: (Region | null)[] = change.region ? [null, change.region] : [null];
  const deltas: BoardDelta[] = [];
  for (const metric of METRICS) {
    const units = unitsOf(metric, change);
    if (units === 0) continue;
    for (const period of PERIODS) {
      const periodStart = periodStartOf(period, change.startedAt);
      for (const region of regions) {
        const ref: BoardRef = { metric, period, region, periodStart };
        const expiry = expiresAt(ref, graceMs);
        if (expiry && expiry.getTime() <= now.getTime()) continue;
        deltas.push({ ref, id: boardId(ref), delta: sign * units, expiresAt: expiry });
      }
    }
  }
  return deltas;
}

/** Every board spec there is: 5 metrics x 4 periods x (3 regions + all). */
export function allSpecs(): BoardSpec[] {
  const specs: BoardSpec[] = [];
  for (const metric of METRICS)
    for (const period of PERIODS)
      for (const region of [null, ...REGIONS]) specs.push({ metric, period, region });
  return specs;
}

/**
 * How far ahead of the clock a workout may start (validation.ts allows 5 minutes),
 * so a board of the next period may already hold it.
 */
const MAX_FUTURE_START_MS = 5 * 60 * 1000;

/**
 * Every board that can hold scores at `now`: per metric and region, ALL_TIME and,
 * for the other periods, each period whose keys have not expired (the current
 * one and those still in their grace time), plus the next one within reach of a
 * workout dated slightly ahead. An account's erasure removes it from all of them.
 */
export function liveBoards(now: Date, graceMs = PERIOD_GRACE_MS): BoardRef[] {
  const refs: BoardRef[] = [];
  for (const spec of allSpecs()) {
    if (spec.period === 'ALL_TIME') {
      refs.push({ ...spec, periodStart: null });
      continue;
    }
    let start = periodStartOf(spec.period, new Date(now.getTime() + MAX_FUTURE_START_MS));
    while (start !== null) {
      const ref: BoardRef = { ...spec, periodStart: start };
      const expiry = expiresAt(ref, graceMs);
      if (expiry === null || expiry.getTime() <= now.getTime()) break;
      refs.push(ref);
      start = periodStartOf(spec.period, new Date(start.getTime() - 1));
    }
  }
  return refs;
}
