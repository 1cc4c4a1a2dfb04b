import { pathToFileURL } from 'node:url';
import type { Pool } from '@fitness/pg-kit';
import { createLogger, exitOnStartupError, isRegion, REGIONS } from '@fitness/server-kit';
import { loadConfig } from '../config.js';
import { openStores } from '../stores.js';
import { allSpecs, boardId, currentBoard, periodEndOf, periodStartOf, unitsSql } from './boards.js';
import { DEDUPE_TTL_MS, type LeaderboardStore } from './LeaderboardStore.js';
import {
  type BoardRef,
  type BoardSpec,
  type LeaderboardMetric,
  type LeaderboardPeriod,
  METRICS,
  PERIODS,
  type Region,
} from './model.js';
import { openLeaderboardStore } from './open.js';

/** One recomputed board: its id and how many users it now ranks. */
export interface RebuiltBoard {
  board: string;
  users: number;
}

/**
 * Recomputes boards from the source of truth (the workouts table) and swaps
 * each one in atomically. One query per period: every metric and region comes
 * from the same rows, summed with the same integer rounding as the consumer
 * (boards.ts), so a rebuild equals the incremental result exactly.
 *
 * Events the consumer applies while a rebuild runs (between its query and its
 * swap) may be counted twice or not at all; for an exact board, rebuild while
 * nothing is being logged, or rebuild again.
 */
export async function rebuildBoards(
  pool: Pool,
  store: LeaderboardStore,
  boards: readonly BoardRef[],
  now = new Date(),
): Promise<RebuiltBoard[]> {
  const byPeriod = new Map<string, BoardRef[]>();
  for (const ref of boards) {
    const key = `${ref.period}:${ref.periodStart?.toISOString() ?? '-'}`;
    byPeriod.set(key, [...(byPeriod.get(key) ?? []), ref]);
  }
  const rebuilt: RebuiltBoard[] = [];
  for (const refs of byPeriod.values()) {
    const { period, periodStart } = refs[0]!;
    const totals = await periodTotals(pool, period, periodStart);
    for (const ref of refs) {
      const units = totals.get(`${ref.metric}:${ref.region ?? 'ALL'}`) ?? new Map<string, number>();
      await store.replace(ref, units, now);
      rebuilt.push({ board: boardId(ref), users: [...units.values()].filter((u) => u > 0).length });
    }
  }
  return rebuilt;
}

/**
 * After a rebuild, marks every workout it could have counted (logged, and deleted
 * when it was) as applied, for the dedupe window: the events of those workouts may
 * still arrive (outbox rows not yet published when the process died, a broker's
 * redelivery) and must not count a second time. Run it with nothing being logged,
 * as the start-up rebuild of in-process boards is.
 */
export async function markRebuiltWorkouts(pool: Pool, store: LeaderboardStore): Promise<number> {
  const { rows } = await pool.query<{ id: string; deleted: boolean }>(
    `SELECT id::text AS id, deleted_at IS NOT NULL AS deleted FROM workout_ids
      WHERE created_at > now() - $1 * interval '1 millisecond'`,
    [DEDUPE_TTL_MS],
  );
  const changes = rows.flatMap((r) => [
    { workoutId: r.id, kind: 'logged' as const },
    ...(r.deleted ? [{ workoutId: r.id, kind: 'deleted' as const }] : []),
  ]);
  await store.markApplied(changes);
  return rows.length;
}

/** Per `${metric}:${region|ALL}`: user id -> thousandths, over one period. */
async function periodTotals(
  pool: Pool,
  period: LeaderboardPeriod,
  start: Date | null,
): Promise<Map<string, Map<string, number>>> {
  const end = periodEndOf(period, start);
  const { rows } = await pool.query<Record<string, string | number | null>>(
    `SELECT user_id, region, ${METRICS.map((m) => `sum(${unitsSql(m)})::float8 AS "${m}"`).join(', ')}
       FROM workouts
      WHERE ($1::timestamptz IS NULL OR started_at >= $1) AND ($2::timestamptz IS NULL OR started_at < $2)
      GROUP BY user_id, region`,
    [start, end],
  );
  const totals = new Map<string, Map<string, number>>();
  const add = (metric: LeaderboardMetric, region: Region | null, user: string, units: number) => {
    const key = `${metric}:${region ?? 'ALL'}`;
    const board = totals.get(key) ?? new Map<string, number>();
    board.set(user, (board.get(user) ?? 0) + units);
    totals.set(key, board);
  };
  for (const row of rows) {
    const user = String(row.user_id);
    const region = isRegion(row.region) ? row.region : null;
    for (const metric of METRICS) {
      const units = Number(row[metric] ?? 0);
      if (units === 0) continue;
      add(metric, null, user, units);
      if (region) add(metric, region, user, units);
    }
  }
  return totals;
}

/** Every board of the period holding `at` (default: the current ones): 80 boards. */
export function boardsAt(at: Date, specs: readonly BoardSpec[] = allSpecs()): BoardRef[] {
  return specs.map((spec) => currentBoard(spec, at));
}

/** Parses `--metric X --period Y --region Z|ALL --at ISO`; absent filters mean "all". */
export function parseRebuildArgs(argv: readonly string[]): BoardRef[] {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // pnpm passes the `--` that separates its own options from the script's.
    if (arg === '--') continue;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    flags.set(arg.slice(2), value);
    i++;
  }
  for (const name of flags.keys()) {
    if (!['metric', 'period', 'region', 'at'].includes(name)) throw new Error(`unknown option --${name}`);
  }
  const pick = <T extends string>(name: string, all: readonly T[]): T[] => {
    const value = flags.get(name)?.toUpperCase();
    if (value === undefined) return [...all];
    if (!(all as readonly string[]).includes(value))
      throw new Error(`--${name} must be one of ${all.join(', ')}`);
    return [value as T];
  };
  const at = flags.has('at') ? new Date(flags.get('at')!) : new Date();
  if (Number.isNaN(at.getTime())) throw new Error('--at must be an ISO-8601 instant');
  const regionFlag = flags.get('region')?.toUpperCase();
  const regions: (Region | null)[] =
    regionFlag === undefined ? [null, ...REGIONS] : regionFlag === 'ALL' ? [null] : pick('region', REGIONS);
  const refs: BoardRef[] = [];
  for (const metric of pick('metric', METRICS))
    for (const period of pick('period', PERIODS))
      for (const region of regions)
        refs.push({ metric, period, region, periodStart: periodStartOf(period, at) });
  return refs;
}

/**
 * `pnpm --filter @fitness/workouts leaderboards:rebuild [-- --metric M --period P --region R|ALL --at ISO]`:
 * recomputes the named boards (default: all 80 current ones) in the Redis of
 * REDIS_URL from the workouts database, then notifies live subscribers.
 */
async function main(argv: readonly string[]): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('workouts-leaderboards-rebuild', config.logLevel);
  if (!config.redisUrl) {
    throw new Error(
      'REDIS_URL is unset: in-process boards live inside the running service, which rebuilds them when it starts',
    );
  }
  const boards = parseRebuildArgs(argv);
  const stores = await openStores(config, logger);
  const { store, notices } = await openLeaderboardStore(config.redisUrl, logger);
  try {
    const rebuilt = await rebuildBoards(stores.pool, store, boards);
    await notices.publish(rebuilt.map((b) => b.board));
    for (const { board, users } of rebuilt) process.stdout.write(`${board}\t${users} users\n`);
    logger.info({ boards: rebuilt.length }, 'leaderboards rebuilt');
  } finally {
    await notices.close();
    await store.close();
    await stores.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch(exitOnStartupError(createLogger('workouts-leaderboards-rebuild')));
}
