/**
 * User.stats benchmark (not a test): `pnpm --filter @fitness/workouts bench`.
 *
 * Per engine (PGlite + TimescaleDB always; the real PostgreSQL server when
 * TEST_POSTGRES_URL is set, in a database created and dropped here) it loads
 * BENCH_USERS x BENCH_WORKOUTS x BENCH_SETS (default 1,000 x 100 x 10) with
 * batched multi-row inserts, then prints the load rate, User.stats latency through
 * the data source (DAY over a year, MONTH over three years, random users) and how
 * the rollup compares with aggregating raw workouts for the same answers.
 */
import { performance } from 'node:perf_hooks';
import {
  createPool,
  detectEngine,
  type Engine,
  isEmbeddedUrl,
  migrate,
  type Pool,
  startEmbeddedPostgres,
} from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { createTestDatabase, seededRandom } from '@fitness/testing';
import { WorkoutsDataSource } from '../src/datasources/WorkoutsDataSource.js';
import { PgWorkoutsStore } from '../src/datasources/WorkoutsStore.js';
import { applyStoragePolicies } from '../src/policies.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('workouts-bench', 'warn');
const USERS = Number(process.env.BENCH_USERS ?? 1000);
const WORKOUTS = Number(process.env.BENCH_WORKOUTS ?? 100);
const SETS = Number(process.env.BENCH_SETS ?? 10);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
/** Users per insert batch: 10 x 100 workouts x 10 sets = 10,000 set rows per statement. */
const USERS_PER_BATCH = Number(process.env.BENCH_USERS_PER_BATCH ?? 10);
const DATA_START = Date.parse('2023-01-01T00:00:00Z');
const DATA_END = Date.parse('2026-01-01T00:00:00Z');
const DAY_MS = 24 * 60 * 60 * 1000;
const EXERCISES = ['barbell-back-squat', 'barbell-bench-press', 'deadlift', 'push-up', 'plank', 'pull-up'];

const userId = (i: number) => `bench-user-${String(i).padStart(5, '0')}`;

/** Loads users [from, to) in one transaction: three multi-row statements. */
async function loadBatch(
  pool: Pool,
  random: () => number,
  from: number,
  to: number,
  rowsPerStatement: number,
) {
  const w = {
    id: [] as string[],
    user: [] as string[],
    at: [] as string[],
    duration: [] as number[],
    distance: [] as (number | null)[],
    calories: [] as number[],
    volume: [] as number[],
  };
  const s = {
    workout: [] as string[],
    position: [] as number[],
    user: [] as string[],
    at: [] as string[],
    exercise: [] as string[],
    reps: [] as number[],
    weight: [] as number[],
  };
  const hex = () =>
    Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  for (let u = from; u < to; u++) {
    for (let k = 0; k < WORKOUTS; k++) {
      const id = `${hex()}-${hex().slice(0, 4)}-4${hex().slice(0, 3)}-a${hex().slice(0, 3)}-${hex()}${hex().slice(0, 4)}`;
      const at = new Date(DATA_START + Math.floor(random() * (DATA_END - DATA_START))).toISOString();
      let volume = 0;
      for (let p = 0; p < SETS; p++) {
        const reps = 1 + Math.floor(random() * 12);
        const weight = Math.floor(random() * 400) * 0.5;
        volume += reps * weight;
        s.workout.push(id);
        s.position.push(p);
        s.user.push(userId(u));
        s.at.push(at);
        s.exercise.push(EXERCISES[Math.floor(random() * EXERCISES.length)]!);
        s.reps.push(reps);
        s.weight.push(weight);
      }
      w.id.push(id);
      w.user.push(userId(u));
      w.at.push(at);
      w.duration.push(600 + Math.floor(random() * 6600));
      w.distance.push(random() < 0.5 ? null : Math.floor(random() * 200_000) / 10);
      w.calories.push(Math.floor(random() * 15_000) / 10);
      w.volume.push(volume);
    }
  }
  const client = await pool.connect();
  /** Runs `sql` over the columns in slices of at most `rowsPerStatement` rows. */
  const insert = async (sql: string, columns: unknown[][]) => {
    const n = columns[0]!.length;
    for (let i = 0; i < n; i += rowsPerStatement) {
      await client.query(
        sql,
        columns.map((c) => c.slice(i, i + rowsPerStatement)),
      );
    }
  };
  try {
    await client.query('BEGIN');
    await insert(
      `INSERT INTO workout_ids (id, user_id, content_hash, started_at)
       SELECT id, user_id, 'bench', started_at FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])
         AS t (id, user_id, started_at)`,
      [w.id, w.user, w.at],
    );
    await insert(
      `INSERT INTO workouts (id, user_id, sport, started_at, duration_sec, distance_m, calories, volume_kg, content_hash)
       SELECT id, user_id, 'STRENGTH', started_at, duration_sec, distance_m, calories, volume_kg, 'bench'
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::float8[], $6::float8[], $7::float8[])
           AS t (id, user_id, started_at, duration_sec, distance_m, calories, volume_kg)`,
      [w.id, w.user, w.at, w.duration, w.distance, w.calories, w.volume],
    );
    await insert(
      `INSERT INTO workout_sets (workout_id, position, user_id, started_at, exercise_id, reps, weight_kg)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::int[], $7::float8[])`,
      [s.workout, s.position, s.user, s.at, s.exercise, s.reps, s.weight],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function timed(n: number, run: (i: number) => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / n,
  };
}

/** The same totals as User.stats, aggregated from raw workouts at query time. */
const RAW_USER = `SELECT date_trunc($1, date_bin(INTERVAL '1 day', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), 'UTC') AS start,
         count(*)::int AS workouts, sum(duration_sec)::float8 AS duration_sec,
         sum(volume_kg::numeric)::float8 AS volume_kg, sum(coalesce(distance_m, 0)::numeric)::float8 AS distance_m,
         sum(coalesce(calories, 0)::numeric)::float8 AS calories
    FROM workouts WHERE user_id = $2 AND started_at >= $3 AND started_at < $4
   GROUP BY 1 ORDER BY 1`;

/** Platform-wide monthly totals over the whole dataset: rollup vs raw. */
const ALL_ROLLUP = `SELECT date_trunc('month', day, 'UTC') AS start, sum(workouts)::int AS workouts,
         sum(duration_sec)::float8 AS duration_sec, sum(volume_kg)::float8 AS volume_kg
    FROM user_daily_totals WHERE day >= $1 AND day < $2 GROUP BY 1 ORDER BY 1`;
const ALL_RAW = `SELECT date_trunc('month', started_at, 'UTC') AS start, count(*)::int AS workouts,
         sum(duration_sec)::float8 AS duration_sec, sum(volume_kg::numeric)::float8 AS volume_kg
    FROM workouts WHERE started_at >= $1 AND started_at < $2 GROUP BY 1 ORDER BY 1`;

interface EngineResult {
  engine: string;
  users: number;
  workouts: number;
  sets: number;
  loadSec: number;
  workoutsPerSec: number;
  setsPerSec: number;
  materializeSec: number | null;
  day: { p50: number; p99: number };
  month: { p50: number; p99: number };
  rawDay: { p50: number; p99: number };
  rawMonth: { p50: number; p99: number };
  allRollupMs: number;
  allRawMs: number;
}

async function benchEngine(name: string, url: string): Promise<EngineResult> {
  // pglite-socket hands PGlite each socket read as it comes; a protocol message
  // larger than one read (about 64 KiB: a bind of ~1,000 set rows) crashes the
  // WASM engine ("RuntimeError: unreachable"). Small statements avoid it there.
  const rowsPerStatement = isEmbeddedUrl(url) ? 400 : 10_000;
  const pool = createPool(url, { statementTimeoutMs: 600_000, applicationName: 'workouts-bench' });
  try {
    const engine: Engine = await detectEngine(pool);
    await migrate(pool, { dir: migrationsDir, engine, logger });
    if (engine === 'timescale') {
      await applyStoragePolicies(
        pool,
        { compressSetsAfter: '30 days', setRetention: null, statsRealtimeWindow: '7 days' },
        logger,
      );
    }
    const random = seededRandom(42);
    process.stdout.write(`[${name}] loading ${USERS} users x ${WORKOUTS} workouts x ${SETS} sets`);
    const t0 = performance.now();
    for (let u = 0; u < USERS; u += USERS_PER_BATCH) {
      await loadBatch(pool, random, u, Math.min(USERS, u + USERS_PER_BATCH), rowsPerStatement);
      if ((u / USERS_PER_BATCH) % 10 === 0) process.stdout.write('.');
    }
    const loadSec = (performance.now() - t0) / 1000;
    process.stdout.write(` ${loadSec.toFixed(1)} s\n`);

    let materializeSec: number | null = null;
    if (engine === 'timescale') {
      // What the refresh policy does on a server with background workers (PGlite
      // has none): materialize every day older than the real-time window.
      const t1 = performance.now();
      await pool.query(
        `CALL refresh_continuous_aggregate('user_daily_totals', NULL, now() - INTERVAL '7 days')`,
      );
      materializeSec = (performance.now() - t1) / 1000;
    }
    await pool.query('ANALYZE');

    const store = new PgWorkoutsStore(pool, engine, logger);
    const pick = seededRandom(7);
    const user = () => userId(Math.floor(pick() * USERS));
    // DAY over a year: 365 buckets starting on a random day of the first two years.
    const yearStart = () => new Date(DATA_START + Math.floor(pick() * 730) * DAY_MS);
    const dayQueries = Array.from({ length: QUERIES }, () => {
      const from = yearStart();
      return { user: user(), from, to: new Date(from.getTime() + 365 * DAY_MS) };
    });
    const monthQueries = Array.from({ length: QUERIES }, () => ({
      user: user(),
      from: new Date(DATA_START),
      to: new Date(DATA_END),
    }));
    // Warm-up: plans and caches, as a running service has them.
    for (const q of dayQueries.slice(0, 20))
      await new WorkoutsDataSource(store).stats(q.user, 'DAY', q.from.toISOString(), q.to.toISOString());

    // A new data source per query: one request each, no DataLoader cache between them.
    const day = await timed(QUERIES, (i) => {
      const q = dayQueries[i]!;
      return new WorkoutsDataSource(store).stats(q.user, 'DAY', q.from.toISOString(), q.to.toISOString());
    });
    const month = await timed(QUERIES, (i) => {
      const q = monthQueries[i]!;
      return new WorkoutsDataSource(store).stats(q.user, 'MONTH', q.from.toISOString(), q.to.toISOString());
    });
    const rawDay = await timed(QUERIES, (i) => {
      const q = dayQueries[i]!;
      return pool.query(RAW_USER, ['day', q.user, q.from, q.to]);
    });
    const rawMonth = await timed(QUERIES, (i) => {
      const q = monthQueries[i]!;
      return pool.query(RAW_USER, ['month', q.user, q.from, q.to]);
    });

    // Same answer both ways (a sanity check of the benchmark, not a test).
    const check = monthQueries[0]!;
    const viaRollup = await new WorkoutsDataSource(store).stats(
      check.user,
      'MONTH',
      check.from.toISOString(),
      check.to.toISOString(),
    );
    const viaRaw = await pool.query<{ workouts: number }>(RAW_USER, [
      'month',
      check.user,
      check.from,
      check.to,
    ]);
    const total = (n: number[]) => n.reduce((a, b) => a + b, 0);
    if (total(viaRollup.map((b) => b.workouts)) !== total(viaRaw.rows.map((r) => r.workouts))) {
      throw new Error(`[${name}] rollup and raw aggregation disagree for ${check.user}`);
    }

    const all = async (sql: string) =>
      (await timed(5, () => pool.query(sql, [new Date(DATA_START), new Date(DATA_END)]))).p50;
    const allRollupMs = await all(ALL_ROLLUP);
    const allRawMs = await all(ALL_RAW);

    const workouts = USERS * WORKOUTS;
    return {
      engine: name,
      users: USERS,
      workouts,
      sets: workouts * SETS,
      loadSec,
      workoutsPerSec: workouts / loadSec,
      setsPerSec: (workouts * SETS) / loadSec,
      materializeSec,
      day,
      month,
      rawDay,
      rawMonth,
      allRollupMs,
      allRawMs,
    };
  } finally {
    await pool.end();
  }
}

const ms = (n: number) => `${n.toFixed(2)} ms`;

function report(r: EngineResult) {
  const lines = [
    `== ${r.engine}: ${r.users} users x ${r.workouts / r.users} workouts x ${r.sets / r.workouts} sets = ${r.workouts} workouts, ${r.sets} sets`,
    `load: ${r.loadSec.toFixed(1)} s, ${Math.round(r.workoutsPerSec)} workouts/s, ${Math.round(r.setsPerSec)} sets/s`,
    r.materializeSec === null
      ? 'rollup: kept by triggers during the load (included above)'
      : `continuous aggregate materialized in ${r.materializeSec.toFixed(1)} s after the load`,
    `User.stats DAY over a year (365 buckets): p50 ${ms(r.day.p50)}, p99 ${ms(r.day.p99)}  | raw: p50 ${ms(r.rawDay.p50)}, p99 ${ms(r.rawDay.p99)}  | raw/rollup p50 ${(r.rawDay.p50 / r.day.p50).toFixed(2)}x`,
    `User.stats MONTH over 3 years (36 buckets): p50 ${ms(r.month.p50)}, p99 ${ms(r.month.p99)}  | raw: p50 ${ms(r.rawMonth.p50)}, p99 ${ms(r.rawMonth.p99)}  | raw/rollup p50 ${(r.rawMonth.p50 / r.month.p50).toFixed(2)}x`,
    `all users, monthly totals over 3 years: rollup ${ms(r.allRollupMs)}, raw ${ms(r.allRawMs)}, raw/rollup ${(r.allRawMs / r.allRollupMs).toFixed(1)}x`,
  ];
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

async function main() {
  const results: EngineResult[] = [];
  const embedded = await startEmbeddedPostgres({ dataDir: 'memory://', timescale: true, logger });
  try {
    results.push(await benchEngine('pglite+timescaledb', embedded.url));
  } finally {
    await embedded.stop();
  }
  report(results[0]!);
  const admin = process.env.TEST_POSTGRES_URL;
  if (admin) {
    const db = await createTestDatabase(admin);
    try {
      results.push(await benchEngine('postgresql', db.url));
    } finally {
      await db.drop();
    }
    report(results[1]!);
  } else {
    process.stdout.write('TEST_POSTGRES_URL is unset: the PostgreSQL run was skipped\n');
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
