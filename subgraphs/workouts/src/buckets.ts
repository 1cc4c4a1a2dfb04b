import type { StatsBucketSize } from './__generated__/resolvers-types.js';

/**
 * UTC calendar buckets for User.stats: a DAY starts at midnight UTC, a WEEK on
 * Monday midnight UTC (ISO weeks, as SQL `date_trunc('week', t, 'UTC')`), a MONTH
 * on the 1st. The store rolls days up with the same `date_trunc`; this module
 * lists the buckets a range asks for, so that empty ones can be filled with zeros.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** The start of the bucket that holds `t`. */
export function bucketStart(t: Date, size: StatsBucketSize): Date {
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth();
  const d = t.getUTCDate();
  switch (size) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d));
    case 'WEEK':
      // getUTCDay(): Sunday is 0; days since Monday is (day + 6) % 7.
      return new Date(Date.UTC(y, m, d - ((t.getUTCDay() + 6) % 7)));
    case 'MONTH':
      return new Date(Date.UTC(y, m, 1));
  }
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(start: Date, size: StatsBucketSize): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth();
  const d = start.getUTCDate();
  switch (size) {
    case 'DAY':
      return new Date(Date.UTC(y, m, d + 1));
    case 'WEEK':
      return new Date(Date.UTC(y, m, d + 7));
    case 'MONTH':
      return new Date(Date.UTC(y, m + 1, 1));
  }
}

/**
 * The whole buckets covering [from, to): from the start of the bucket holding
 * `from` to the end of the bucket holding the last instant before `to`.
 * Requires from < to.
 */
export function coveringRange(from: Date, to: Date, size: StatsBucketSize): { start: Date; end: Date } {
  const start = bucketStart(from, size);
  const last = bucketStart(new Date(to.getTime() - 1), size);
  return { start, end: nextBucket(last, size) };
}

/** How many buckets lie in [start, end); both are bucket starts. */
export function countBuckets(start: Date, end: Date, size: StatsBucketSize): number {
  switch (size) {
    case 'DAY':
      return Math.round((end.getTime() - start.getTime()) / DAY_MS);
    case 'WEEK':
      return Math.round((end.getTime() - start.getTime()) / (7 * DAY_MS));
    case 'MONTH':
      return (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + (end.getUTCMonth() - start.getUTCMonth());
  }
}

/** Every bucket start in [start, end), oldest first. */
export function bucketStarts(start: Date, end: Date, size: StatsBucketSize): Date[] {
  const starts: Date[] = [];
  for (let t = start; t < end; t = nextBucket(t, size)) starts.push(t);
  return starts;
}
