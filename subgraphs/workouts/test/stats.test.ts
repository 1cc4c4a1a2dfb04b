import { randomUUID } from 'node:crypto';
import { createPool, detectEngine, type Engine, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, pgEngines, seededRandom, type TestDatabase } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import type { NewWorkout, StatsBucketSize } from '../src/datasources/models.js';
import { PgWorkoutsStore, type WorkoutsStore } from '../src/datasources/WorkoutsStore.js';
import { applyStoragePolicies, policyJobIds } from '../src/policies.js';
import { createWorkoutsServer } from '../src/server.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('workouts-stats-test', 'silent');
const DAY_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// A known dataset: seeded, so both engines get exactly the same workouts.

const USERS = ['stats-ana', 'stats-ben', 'stats-cy'] as const;
const RANGE_START = Date.parse('2023-12-01T00:00:00Z');
const RANGE_END = Date.parse('2025-02-01T00:00:00Z'); // 14 months
const EXERCISES = ['barbell-back-squat', 'push-up', 'plank'];

function generateDataset(): NewWorkout[] {
  const random = seededRandom(20_240_229);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => int(0, 15).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  const workout = (userId: string, startedAt: Date): NewWorkout => ({
    id: uuid(),
    userId,
    sport: 'STRENGTH',
    title: null,
    startedAt,
    durationSec: int(60, 7200),
    // One decimal, like an app's readings; sometimes absent, which counts as 0.
    distanceM: random() < 0.3 ? null : int(0, 200_000) / 10,
    calories: random() < 0.2 ? null : int(0, 15_000) / 10,
    sets: Array.from({ length: int(0, 5) }, () => ({
      exerciseId: EXERCISES[int(0, EXERCISES.length - 1)]!,
      reps: int(1, 12),
      weightKg: int(0, 400) * 0.25,
      durationSec: null,
      distanceM: null,
    })),
  });
  // Boundaries: the last millisecond of a day, week (Sunday), month and year and
  // the first of the next; a leap day.
  const edges = [
    '2024-03-31T23:59:59.999Z',
    '2024-04-01T00:00:00.000Z',
    '2024-06-09T23:59:59.999Z', // Sunday
    '2024-06-10T00:00:00.000Z', // Monday
    '2024-02-29T12:00:00.000Z',
    '2024-12-31T23:59:59.999Z',
    '2025-01-01T00:00:00.000Z',
    '2023-12-01T00:00:00.000Z',
    '2025-01-31T23:59:59.999Z',
  ];
  const list: NewWorkout[] = [];
  for (const [i, at] of edges.entries()) list.push(workout(USERS[i % USERS.length]!, new Date(at)));
  while (list.length < 200) {
    const at = RANGE_START + Math.floor(random() * (RANGE_END - RANGE_START));
    list.push(workout(USERS[int(0, USERS.length - 1)]!, new Date(at)));
  }
  return list;
}

// ---------------------------------------------------------------------------
// The independent computation: string and day-number arithmetic, not buckets.ts.

interface Totals {
  workouts: number;
  durationSec: number;
  volumeKg: number;
  distanceM: number;
  calories: number;
}

/** Start of the UTC day, ISO week (Monday) or month of `t`, as an ISO string. */
function expectedBucket(t: Date, size: StatsBucketSize): string {
  const iso = t.toISOString();
  if (size === 'DAY') return `${iso.slice(0, 10)}T00:00:00.000Z`;
  if (size === 'MONTH') return `${iso.slice(0, 7)}-01T00:00:00.000Z`;
  // 1970-01-01 was a Thursday, 3 days after a Monday.
  const day = Math.floor(t.getTime() / DAY_MS);
  const monday = Math.floor((day + 3) / 7) * 7 - 3;
  return new Date(monday * DAY_MS).toISOString();
}

function expectedStats(
  workouts: readonly NewWorkout[],
  userId: string,
  size: StatsBucketSize,
  from: string,
  to: string,
) {
  const starts: string[] = [];
  let cursor = new Date(expectedBucket(new Date(from), size));
  while (cursor.getTime() < Date.parse(to)) {
    starts.push(cursor.toISOString());
    cursor =
      size === 'MONTH'
        ? new Date(Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() + 1, 1))
        : new Date(cursor.getTime() + (size === 'DAY' ? 1 : 7) * DAY_MS);
  }
  const totals = new Map<string, Totals>(
    starts.map((s) => [s, { workouts: 0, durationSec: 0, volumeKg: 0, distanceM: 0, calories: 0 }]),
  );
  for (const w of workouts) {
    const t = w.userId === userId ? totals.get(expectedBucket(w.startedAt, size)) : undefined;
    if (!t) continue;
    t.workouts += 1;
    t.durationSec += w.durationSec;
    t.volumeKg += w.sets.reduce((sum, s) => sum + (s.reps ?? 0) * (s.weightKg ?? 0), 0);
    t.distanceM += w.distanceM ?? 0;
    t.calories += w.calories ?? 0;
  }
  return starts.map((start) => ({ start, ...totals.get(start)! }));
}

// ---------------------------------------------------------------------------

const STATS = `query ($reps: [_Any!]!, $bucket: StatsBucketSize!, $from: DateTime!, $to: DateTime!) {
  _entities(representations: $reps) {
    ... on User { id stats(bucket: $bucket, from: $from, to: $to) {
      start workouts durationSec volumeKg distanceM calories
    } }
  }
}`;

type Bucket = { start: string } & Totals;

/** Ranges checked per bucket size: every bucket of the dataset and beyond it. */
const RANGES: [StatsBucketSize, string, string][] = [
  ['DAY', '2023-11-28T00:00:00Z', '2024-12-31T00:00:00Z'],
  ['DAY', '2024-10-01T00:00:00Z', '2025-02-03T00:00:00Z'],
  ['WEEK', '2023-11-27T00:00:00Z', '2025-02-10T00:00:00Z'],
  ['MONTH', '2023-11-01T00:00:00Z', '2025-03-01T00:00:00Z'],
];

/** Per engine, every response of the known dataset: both engines must agree exactly. */
const answers = new Map<string, unknown>();

function countingStore(inner: WorkoutsStore) {
  const calls: Record<string, number> = {};
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe.each(pgEngines('workouts stats', { timescale: true }))('User.stats on $name', (pgEngine) => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PgWorkoutsStore;
  let engine: Engine;
  const server = createWorkoutsServer(logger);
  const dataset = generateDataset();
  /** What the database should hold: the dataset after the deletes and late syncs below. */
  let expected: NewWorkout[] = [...dataset];

  beforeAll(async () => {
    db = await pgEngine.create();
    pool = createPool(db.url);
    engine = await detectEngine(pool);
    await migrate(pool, { dir: migrationsDir, engine, logger });
    if (engine === 'timescale') {
      await applyStoragePolicies(
        pool,
        { compressSetsAfter: '30 days', setRetention: null, statsRealtimeWindow: '7 days' },
        logger,
      );
    }
    store = new PgWorkoutsStore(pool, engine, logger);
    await server.start();
    for (const workout of dataset) await store.logWorkout(workout);
    if (engine === 'timescale') {
      // Materialize the first half: the rest is aggregated at query time, so both
      // paths of the continuous aggregate are exercised.
      await pool.query(
        `CALL refresh_continuous_aggregate('user_daily_totals', NULL, '2024-07-01T00:00:00Z')`,
      );
    }
  });

  afterAll(async () => {
    await server.stop();
    await pool.end();
    await db.close();
  });

  const stats = async (
    viewer: string | null,
    userId: string,
    bucket: StatsBucketSize,
    from: string,
    to: string,
    using: WorkoutsStore = store,
  ) =>
    assertSingleResult<{ _entities: { id: string; stats: Bucket[] | null }[] }>(
      (
        await server.executeOperation(
          {
            query: STATS,
            variables: { reps: [{ __typename: 'User', id: userId }], bucket, from, to },
          },
          { contextValue: createContext({ userId: viewer, region: null }, using, logger) },
        )
      ).body,
    );

  const ownStats = async (userId: string, bucket: StatsBucketSize, from: string, to: string) => {
    const result = await stats(userId, userId, bucket, from, to);
    expect(result.errors).toBeUndefined();
    return result.data!._entities[0]!.stats!;
  };

  const expectMatches = (actual: Bucket[], wanted: ReturnType<typeof expectedStats>) => {
    expect(actual.map((b) => b.start)).toEqual(wanted.map((b) => b.start));
    for (const [i, bucket] of actual.entries()) {
      const want = wanted[i]!;
      const at = `bucket ${bucket.start}`;
      expect(bucket.workouts, at).toBe(want.workouts);
      expect(bucket.durationSec, at).toBe(want.durationSec);
      // The database sums exactly (numeric); the test sums doubles.
      expect(bucket.volumeKg, at).toBeCloseTo(want.volumeKg, 6);
      expect(bucket.distanceM, at).toBeCloseTo(want.distanceM, 6);
      expect(bucket.calories, at).toBeCloseTo(want.calories, 6);
    }
  };

  describe('rollup', () => {
    it('should build the continuous aggregate with real-time aggregation on TimescaleDB, a table on PostgreSQL', async () => {
      if (engine === 'timescale') {
        const { rows } = await pool.query(
          `SELECT view_name, materialized_only, hypertable_name
             FROM timescaledb_information.continuous_aggregates`,
        );
        expect(rows).toEqual([
          { view_name: 'user_daily_totals', materialized_only: false, hypertable_name: 'workouts' },
        ]);
      } else {
        const { rows } = await pool.query(
          "SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'workouts'::regclass AND NOT tgisinternal",
        );
        expect(rows[0]).toEqual({ n: 2 });
      }
    });

    it('should hold one row per user and day that has workouts', async () => {
      const { rows } = await pool.query<{ n: number; workouts: number }>(
        `SELECT count(*)::int AS n, sum(workouts)::int AS workouts FROM user_daily_totals
          WHERE user_id = ANY($1::text[])`,
        [USERS],
      );
      const days = new Set(expected.map((w) => `${w.userId} ${w.startedAt.toISOString().slice(0, 10)}`));
      expect(rows[0]).toEqual({ n: days.size, workouts: expected.length });
    });
  });

  describe('a known dataset', () => {
    it('should follow a delete and a late sync, in the materialized and the real-time range', async () => {
      const user = USERS[0];
      const ofUser = expected.filter((w) => w.userId === user);
      // 2024-03 is materialized on TimescaleDB (refreshed up to July); 2024-10 is not.
      const early = ofUser.find((w) => w.startedAt.toISOString().startsWith('2024-03'))!;
      const late = ofUser.find((w) => w.startedAt.toISOString().startsWith('2024-10'))!;
      const month = (w: NewWorkout) => {
        const from = `${w.startedAt.toISOString().slice(0, 7)}-01T00:00:00Z`;
        const to = new Date(Date.UTC(w.startedAt.getUTCFullYear(), w.startedAt.getUTCMonth() + 1, 1));
        return ownStats(user, 'MONTH', from, to.toISOString());
      };
      const [earlyBefore] = await month(early);
      const [lateBefore] = await month(late);
      expect(await store.deleteWorkout(early.id, user)).toBe(true);
      expect(await store.deleteWorkout(late.id, user)).toBe(true);
      expected = expected.filter((w) => w !== early && w !== late);
      const [earlyAfter] = await month(early);
      const [lateAfter] = await month(late);
      expect(earlyAfter!.workouts).toBe(earlyBefore!.workouts - 1);
      expect(earlyAfter!.durationSec).toBe(earlyBefore!.durationSec - early.durationSec);
      expect(lateAfter!.workouts).toBe(lateBefore!.workouts - 1);

      // An offline sync of an old workout, on a day that had none.
      const synced: NewWorkout = {
        ...early,
        id: randomUUID(),
        startedAt: new Date('2024-01-07T18:30:00Z'),
        durationSec: 1234,
      };
      expect(
        expected.some((w) => w.userId === user && w.startedAt.toISOString().startsWith('2024-01-07')),
      ).toBe(false);
      await store.logWorkout(synced);
      expected.push(synced);
      const [day] = await ownStats(user, 'DAY', '2024-01-07T00:00:00Z', '2024-01-08T00:00:00Z');
      expect(day).toMatchObject({ start: '2024-01-07T00:00:00.000Z', workouts: 1, durationSec: 1234 });
    });

    it('should match an independent computation per bucket for DAY, WEEK and MONTH', async () => {
      const responses: unknown[] = [];
      for (const user of USERS) {
        for (const [bucket, from, to] of RANGES) {
          const actual = await ownStats(user, bucket, from, to);
          expectMatches(actual, expectedStats(expected, user, bucket, from, to));
          responses.push(actual);
        }
      }
      answers.set(pgEngine.name, responses);
    });

    it('should count workouts at the edges of days, weeks and months in the right bucket', async () => {
      const user = USERS[1]; // logged 2024-06-09T23:59:59.999Z (Sunday) among the edges
      const weeks = await ownStats(user, 'WEEK', '2024-06-03T00:00:00Z', '2024-06-17T00:00:00Z');
      const wanted = expectedStats(expected, user, 'WEEK', '2024-06-03T00:00:00Z', '2024-06-17T00:00:00Z');
      expect(weeks.map((w) => w.start)).toEqual(['2024-06-03T00:00:00.000Z', '2024-06-10T00:00:00.000Z']);
      expectMatches(weeks, wanted);
      expect(weeks[0]!.workouts).toBeGreaterThanOrEqual(1);
    });

    it('should widen a range to whole buckets, whatever the offset of from and to', async () => {
      const user = USERS[0];
      // 2024-04-01T01:30+02:00 is 2024-03-31T23:30Z: the range starts on March 31 (UTC).
      const days = await ownStats(user, 'DAY', '2024-04-01T01:30:00+02:00', '2024-04-02T00:00:00.001Z');
      expect(days.map((d) => d.start)).toEqual([
        '2024-03-31T00:00:00.000Z',
        '2024-04-01T00:00:00.000Z',
        '2024-04-02T00:00:00.000Z',
      ]);
      expectMatches(
        days,
        expectedStats(expected, user, 'DAY', '2024-03-31T00:00:00Z', '2024-04-03T00:00:00Z'),
      );
    });
  });

  describe('empty buckets', () => {
    it('should list every bucket with zeros for a user without workouts', async () => {
      const user = `u-${randomUUID().slice(0, 8)}`;
      const months = await ownStats(user, 'MONTH', '2024-11-15T00:00:00Z', '2025-02-01T00:00:00Z');
      const zero = { workouts: 0, durationSec: 0, volumeKg: 0, distanceM: 0, calories: 0 };
      expect(months).toEqual([
        { start: '2024-11-01T00:00:00.000Z', ...zero },
        { start: '2024-12-01T00:00:00.000Z', ...zero },
        { start: '2025-01-01T00:00:00.000Z', ...zero },
      ]);
    });

    it('should fill the days between workouts with zeros', async () => {
      const user = USERS[2];
      const days = await ownStats(user, 'DAY', '2023-12-01T00:00:00Z', '2024-02-01T00:00:00Z');
      expect(days).toHaveLength(62);
      expect(days.some((d) => d.workouts === 0)).toBe(true);
      expect(days.filter((d) => d.workouts === 0).every((d) => d.durationSec === 0 && d.volumeKg === 0)).toBe(
        true,
      );
    });
  });

  describe('validation', () => {
    const user = USERS[0];
    it.each([
      ['from equals to', 'DAY', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'from must be before to.'],
      ['from after to', 'MONTH', '2024-02-01T00:00:00Z', '2024-01-01T00:00:00Z', 'from must be before to.'],
      ['401 days', 'DAY', '2024-01-01T00:00:00Z', '2025-02-05T00:00:00Z', 'at most 400 buckets'],
      ['261 weeks', 'WEEK', '2020-01-06T00:00:00Z', '2025-01-06T00:00:00Z', 'at most 260 buckets'],
      ['121 months', 'MONTH', '2015-01-01T00:00:00Z', '2025-01-02T00:00:00Z', 'at most 120 buckets'],
      ['a date without offset', 'DAY', '2024-01-01T00:00:00', '2024-02-01T00:00:00Z', 'from must be'],
      ['February 30', 'DAY', '2024-01-01T00:00:00Z', '2024-02-30T00:00:00Z', 'to must be'],
    ] as const)('should refuse %s as BAD_USER_INPUT', async (_, bucket, from, to, message) => {
      const result = await stats(user, user, bucket, from, to);
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0]!.message).toContain(message);
    });

    it.each([
      ['DAY', '2024-01-01T00:00:00Z', '2025-02-04T00:00:00Z', 400],
      ['WEEK', '2020-01-06T00:00:00Z', '2024-12-30T00:00:00Z', 260],
      ['MONTH', '2015-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 120],
    ] as const)('should accept the longest %s range', async (bucket, from, to, n) => {
      expect(await ownStats(user, bucket, from, to)).toHaveLength(n);
    });
  });

  describe('authorization and batching', () => {
    it("should answer null and FORBIDDEN for another user's stats and for an anonymous viewer", async () => {
      for (const viewer of ['someone-else', null]) {
        const result = await stats(viewer, USERS[0], 'MONTH', '2024-01-01T00:00:00Z', '2024-03-01T00:00:00Z');
        expect(errorCodes(result)).toEqual(['FORBIDDEN']);
        expect(result.data?._entities[0]).toEqual({ id: USERS[0], stats: null });
      }
    });

    it('should load several ranges of one request in one store call', async () => {
      const { store: counting, calls } = countingStore(store);
      const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User {
        days: stats(bucket: DAY, from: "2024-01-01T00:00:00Z", to: "2024-02-01T00:00:00Z") { workouts }
        weeks: stats(bucket: WEEK, from: "2024-01-01T00:00:00Z", to: "2024-02-05T00:00:00Z") { workouts }
        again: stats(bucket: WEEK, from: "2024-01-01T12:00:00Z", to: "2024-02-05T00:00:00Z") { workouts }
        months: stats(bucket: MONTH, from: "2024-01-01T00:00:00Z", to: "2024-02-01T00:00:00Z") { workouts }
      } } }`;
      const result = assertSingleResult<{ _entities: Record<string, { workouts: number }[]>[] }>(
        (
          await server.executeOperation(
            { query, variables: { reps: [{ __typename: 'User', id: USERS[0] }] } },
            { contextValue: createContext({ userId: USERS[0], region: null }, counting, logger) },
          )
        ).body,
      );
      expect(result.errors).toBeUndefined();
      const user = result.data!._entities[0]!;
      expect(calls.stats).toBe(1);
      const sum = (list: { workouts: number }[]) => list.reduce((n, b) => n + b.workouts, 0);
      expect(sum(user.days!)).toBe(sum(user.months!));
      expect(user.again).toEqual(user.weeks);
    });

    it('should count a workout once when 20 identical logWorkout requests race', async () => {
      const user = `u-${randomUUID().slice(0, 8)}`;
      const input = {
        id: randomUUID(),
        sport: 'RUN',
        startedAt: '2024-05-05T07:00:00Z',
        durationSec: 1800,
        distanceM: 5000,
        sets: [],
      };
      const LOG = 'mutation ($input: LogWorkoutInput!) { logWorkout(input: $input) { id } }';
      const results = await Promise.all(
        Array.from({ length: 20 }, async () =>
          assertSingleResult(
            (
              await server.executeOperation(
                { query: LOG, variables: { input } },
                { contextValue: createContext({ userId: user, region: null }, store, logger) },
              )
            ).body,
          ),
        ),
      );
      expect(results.every((r) => r.errors === undefined)).toBe(true);
      const [day] = await ownStats(user, 'DAY', '2024-05-05T00:00:00Z', '2024-05-06T00:00:00Z');
      expect(day).toMatchObject({ workouts: 1, durationSec: 1800, distanceM: 5000 });
    });
  });

  describe('TimescaleDB policies', () => {
    it('should register refresh, compression and retention policies as configured, idempotently', async ({
      skip,
    }) => {
      if (engine !== 'timescale') skip();
      const jobs = async () =>
        (
          await pool.query<{ proc_name: string; config: Record<string, unknown> }>(
            `SELECT proc_name, config FROM timescaledb_information.jobs
              WHERE job_id = ANY($1::int[]) ORDER BY proc_name`,
            [await policyJobIds(pool)],
          )
        ).rows.map((j) => [
          j.proc_name,
          j.config.end_offset ?? j.config.compress_after ?? j.config.drop_after,
        ]);
      expect(await jobs()).toEqual([
        ['policy_compression', '30 days'],
        ['policy_refresh_continuous_aggregate', '7 days'],
      ]);
      const ids = await policyJobIds(pool);
      const policies = { compressSetsAfter: '30 days', setRetention: null, statsRealtimeWindow: '7 days' };
      await applyStoragePolicies(pool, policies, logger);
      expect(await policyJobIds(pool)).toEqual(ids);
      await applyStoragePolicies(
        pool,
        { ...policies, compressSetsAfter: '14 days', setRetention: '1 year' },
        logger,
      );
      expect(await jobs()).toEqual([
        ['policy_compression', '14 days'],
        ['policy_refresh_continuous_aggregate', '7 days'],
        ['policy_retention', '1 year'],
      ]);
      const { rows } = await pool.query(
        `SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc
           FROM timescaledb_information.compression_settings
          WHERE hypertable_name = 'workout_sets' ORDER BY attname`,
      );
      expect(rows).toEqual([
        { attname: 'started_at', segmentby_column_index: null, orderby_column_index: 1, orderby_asc: false },
        { attname: 'user_id', segmentby_column_index: 1, orderby_column_index: null, orderby_asc: null },
      ]);
    });

    it('should keep the totals when the jobs compress and drop old sets', async ({ skip }) => {
      if (engine !== 'timescale') skip();
      const before = await ownStats(USERS[0], 'MONTH', '2023-12-01T00:00:00Z', '2025-02-01T00:00:00Z');
      // No background workers in PGlite: run the jobs as the in-process runner does.
      for (const jobId of await policyJobIds(pool)) await pool.query('CALL run_job($1::integer)', [jobId]);
      const { rows } = await pool.query<{ sets: number; compressed: number }>(
        `SELECT (SELECT count(*)::int FROM workout_sets WHERE user_id = ANY($1::text[])) AS sets,
                (SELECT count(*)::int FROM timescaledb_information.chunks
                  WHERE hypertable_name = 'workout_sets' AND is_compressed) AS compressed`,
        [USERS],
      );
      // The dataset is more than a year old: its sets are gone, the totals are not.
      expect(rows[0]!.sets).toBe(0);
      const after = await ownStats(USERS[0], 'MONTH', '2023-12-01T00:00:00Z', '2025-02-01T00:00:00Z');
      expect(after).toEqual(before);
      // The refresh job materialized everything older than the real-time window:
      // the watermark is the end of the newest day with workouts, 2025-01-31.
      const watermark = await pool.query<{ at: Date }>(
        `SELECT _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(mat_hypertable_id)) AS at
           FROM _timescaledb_catalog.continuous_agg WHERE user_view_name = 'user_daily_totals'`,
      );
      expect(watermark.rows[0]!.at).toEqual(new Date('2025-02-01T00:00:00Z'));
    });
  });
});

describe('User.stats on both engines', () => {
  it('should answer identically on PGlite+TimescaleDB and PostgreSQL', ({ skip }) => {
    if (answers.size < 2) skip();
    const [first, ...rest] = [...answers.values()];
    for (const other of rest) expect(other).toEqual(first);
  });
});
