import { badUserInput, validateText } from '@fitness/server-kit';
import type { LogWorkoutInput } from './__generated__/resolvers-types.js';
import { countBuckets, coveringRange } from './buckets.js';
import type { NewWorkout, NewWorkoutSet, StatsBucketSize } from './datasources/models.js';

/** Limits of a logged workout; they match the CHECK constraints of migration 002. */
export const LIMITS = {
  maxDurationSec: 86_400,
  maxSets: 200,
  maxReps: 1_000,
  maxWeightKg: 1_000,
  maxTitleLength: 100,
  /** Clocks drift; a workout may start a little in the client's "now". */
  maxFutureSkewMs: 5 * 60 * 1000,
  earliestStart: new Date('2000-01-01T00:00:00.000Z'),
  /** @default 20 (the schema's default for `first`) */
  maxPageSize: 100,
  /**
   * Buckets one User.stats call may span: a bit over a year of days, five years
   * of weeks, ten years of months. Bounds the work and the response of one call.
   */
  maxStatsBuckets: { DAY: 400, WEEK: 260, MONTH: 120 },
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A workout id from a client: a UUID, lower-cased so that retries compare equal. */
export function parseWorkoutId(id: string, field = 'id'): string {
  validateText(id, field, { kind: 'identifier' });
  if (!isUuid(id)) throw badUserInput(`${field} must be a UUID.`, { field });
  return id.toLowerCase();
}

// An ISO-8601 date-time with an explicit offset; Date.parse alone accepts far too much.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** V8 rolls 2026-02-31 over to March instead of refusing it; the calendar check does not. */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** A DateTime argument: an ISO-8601 date-time with an offset, on a real calendar day. */
export function parseDateTime(value: string, field: string): Date {
  const parts = ISO_DATE_TIME.exec(value);
  const millis =
    parts && isCalendarDate(Number(parts[1]), Number(parts[2]), Number(parts[3]))
      ? Date.parse(value)
      : Number.NaN;
  if (Number.isNaN(millis)) {
    throw badUserInput(`${field} must be an ISO-8601 date-time with an offset.`, { field });
  }
  return new Date(millis);
}

export function parseStartedAt(value: string, now: Date): Date {
  const millis = parseDateTime(value, 'startedAt').getTime();
  if (millis > now.getTime() + LIMITS.maxFutureSkewMs) {
    throw badUserInput('startedAt must not be more than 5 minutes in the future.', { field: 'startedAt' });
  }
  if (millis < LIMITS.earliestStart.getTime()) {
    throw badUserInput('startedAt must not be before 2000-01-01.', { field: 'startedAt' });
  }
  return new Date(millis);
}

function intInRange(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badUserInput(`${field} must be an integer from ${min} to ${max}.`, { field });
  }
  return value;
}

function optionalIntInRange(value: number | null | undefined, min: number, max: number, field: string) {
  return value === null || value === undefined ? null : intInRange(value, min, max, field);
}

function optionalNonNegative(value: number | null | undefined, field: string, max = Number.MAX_VALUE) {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw badUserInput(
      max === Number.MAX_VALUE
        ? `${field} must be a finite number >= 0.`
        : `${field} must be a number from 0 to ${max}.`,
      { field },
    );
  }
  return value;
}

function parseSet(set: NonNullable<LogWorkoutInput['sets']>[number], index: number): NewWorkoutSet {
  const at = `sets[${index}]`;
  const exerciseId = validateText(set.exerciseId, `${at}.exerciseId`, { kind: 'identifier' }).trim();
  if (exerciseId.length === 0) throw badUserInput(`${at}.exerciseId must not be empty.`);
  return {
    exerciseId,
    reps: optionalIntInRange(set.reps, 0, LIMITS.maxReps, `${at}.reps`),
    weightKg: optionalNonNegative(set.weightKg, `${at}.weightKg`, LIMITS.maxWeightKg),
    durationSec: optionalIntInRange(set.durationSec, 0, LIMITS.maxDurationSec, `${at}.durationSec`),
    distanceM: optionalNonNegative(set.distanceM, `${at}.distanceM`),
  };
}

/**
 * Checks a logWorkout input and returns it normalized (lower-case id, parsed date,
 * nulls for absent values). Pure: `now` is passed in. Throws BAD_USER_INPUT naming
 * the first offending field.
 */
export function validateLogWorkout(input: LogWorkoutInput, userId: string, now: Date): NewWorkout {
  const id = parseWorkoutId(input.id, 'input.id');
  const title = input.title ?? null;
  if (title !== null) validateText(title, 'title');
  if (title !== null && title.length > LIMITS.maxTitleLength) {
    throw badUserInput(`title must be at most ${LIMITS.maxTitleLength} characters.`, { field: 'title' });
  }
  const sets = input.sets ?? [];
  if (sets.length > LIMITS.maxSets) {
    throw badUserInput(`A workout may have at most ${LIMITS.maxSets} sets.`, { field: 'sets' });
  }
  return {
    id,
    userId,
    sport: input.sport,
    title,
    startedAt: parseStartedAt(input.startedAt, now),
    durationSec: intInRange(input.durationSec, 1, LIMITS.maxDurationSec, 'durationSec'),
    distanceM: optionalNonNegative(input.distanceM, 'distanceM'),
    calories: optionalNonNegative(input.calories, 'calories'),
    sets: sets.map(parseSet),
  };
}

/**
 * The page size for a connection: at least 1; larger requests are capped at 100
 * rather than refused, so that a client asking for "everything" still gets a page.
 */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw badUserInput('first must be at least 1.', { field: 'first' });
  return Math.min(n, LIMITS.maxPageSize);
}

/** Sum of reps x weightKg over the sets; a set without reps or weight adds nothing. */
export function volumeOf(sets: readonly NewWorkoutSet[]): number {
  return sets.reduce((sum, s) => sum + (s.reps ?? 0) * (s.weightKg ?? 0), 0);
}

/**
 * Checks a User.stats range and widens it to whole buckets (see buckets.ts):
 * from < to, and at most {@link LIMITS.maxStatsBuckets} buckets of the size.
 */
export function parseStatsRange(
  bucket: StatsBucketSize,
  fromValue: string,
  toValue: string,
): { start: Date; end: Date } {
  const from = parseDateTime(fromValue, 'from');
  const to = parseDateTime(toValue, 'to');
  if (from.getTime() >= to.getTime()) throw badUserInput('from must be before to.', { field: 'from' });
  const range = coveringRange(from, to, bucket);
  const max = LIMITS.maxStatsBuckets[bucket];
  if (countBuckets(range.start, range.end, bucket) > max) {
    throw badUserInput(`A ${bucket} range may span at most ${max} buckets.`, { field: 'to' });
  }
  return range;
}
