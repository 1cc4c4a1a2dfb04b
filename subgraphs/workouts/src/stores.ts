import {
  createPool,
  detectEngine,
  type Engine,
  migrate,
  type Pool,
  probeWrites,
  startEmbeddedPostgres,
} from '@fitness/pg-kit';
import { type Check, cachedCheck, type Logger } from '@fitness/server-kit';
import { PgWorkoutsStore } from './datasources/WorkoutsStore.js';
import { applyStoragePolicies, runPoliciesInProcess, type StoragePolicies } from './policies.js';

export const migrationsDir = new URL('../migrations', import.meta.url).pathname;

/**
 * What /ready writes (and rolls back): a workout row, so every trigger a real
 * logWorkout fires runs too (the continuous aggregate's invalidation trigger on
 * TimescaleDB, the rollup trigger on plain PostgreSQL). A database that answers
 * SELECT 1 but refuses those writes is not ready.
 */
const WRITE_PROBE = `
  WITH probe AS (
    INSERT INTO workout_ids (id, user_id, content_hash, started_at)
    VALUES (gen_random_uuid(), 'ready-probe', 'ready-probe', now())
    RETURNING id, started_at)
  INSERT INTO workouts (id, user_id, sport, started_at, duration_sec, content_hash)
  SELECT id, 'ready-probe', 'OTHER', started_at, 1, 'ready-probe' FROM probe`;

export interface WorkoutsStores {
  /** The database URL, the embedded one included (isEmbeddedUrl tells them apart). */
  url: string;
  pool: Pool;
  store: PgWorkoutsStore;
  /** Whether the database takes writes (a rolled-back probe, cached for a second). */
  ready: Check;
  close(): Promise<void>;
}

/**
 * Connects to TimescaleDB (or starts the embedded PGlite with TimescaleDB) and
 * applies migrations. A server without the extension is plain PostgreSQL: the
 * same tables without hypertables, so the service still runs, only slower at scale.
 */
export async function openStores(
  config: { databaseUrl: string | undefined; dataDir: string; policies: StoragePolicies },
  logger: Logger,
): Promise<WorkoutsStores> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.dataDir, timescale: true, logger });
  const url = config.databaseUrl ?? embedded!.url;
  const pool = createPool(url, { applicationName: 'workouts' });
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  let engine: Engine;
  try {
    engine = await detectEngine(pool);
    if (engine === 'postgres') {
      logger.warn('TimescaleDB is not available: workouts runs on plain PostgreSQL tables');
    }
    await migrate(pool, { dir: migrationsDir, engine, logger });
    if (engine === 'timescale') await applyStoragePolicies(pool, config.policies, logger);
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  // Only the embedded engine lacks TimescaleDB's background workers.
  const jobs = embedded && engine === 'timescale' ? runPoliciesInProcess(pool, logger) : undefined;
  return {
    url,
    pool,
    store: new PgWorkoutsStore(pool, engine, logger),
    ready: cachedCheck(() => probeWrites(pool, [WRITE_PROBE])),
    async close() {
      await jobs?.stop();
      await pool.end();
      await embedded?.stop();
    },
  };
}
