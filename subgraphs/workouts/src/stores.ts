import {
  type DatabaseStores,
  detectEngine,
  migrate,
  openServiceDatabase,
  probeWrites,
} from '@fitness/pg-kit';
import { cachedCheck, type Logger } from '@fitness/server-kit';
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

export type WorkoutsStores = DatabaseStores<PgWorkoutsStore>;

/**
 * Connects to TimescaleDB (or starts the embedded PGlite with TimescaleDB) and
 * applies migrations. A server without the extension is plain PostgreSQL: the
 * same tables without hypertables, so the service still runs, only slower at scale.
 */
export async function openStores(
  config: { databaseUrl: string | undefined; dataDir: string; policies: StoragePolicies },
  logger: Logger,
): Promise<WorkoutsStores> {
  const db = await openServiceDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    timescale: true,
    applicationName: 'workouts',
    logger,
    async prepare(pool) {
      const engine = await detectEngine(pool);
      if (engine === 'postgres') {
        logger.warn('TimescaleDB is not available: workouts runs on plain PostgreSQL tables');
      }
      await migrate(pool, { dir: migrationsDir, engine, logger });
      if (engine === 'timescale') await applyStoragePolicies(pool, config.policies, logger);
      return engine;
    },
  });
  const engine = db.prepared;
  // Only the embedded engine lacks TimescaleDB's background workers.
  const jobs = db.embedded && engine === 'timescale' ? runPoliciesInProcess(db.pool, logger) : undefined;
  return {
    url: db.url,
    pool: db.pool,
    store: new PgWorkoutsStore(db.pool, engine, logger),
    ready: cachedCheck(() => probeWrites(db.pool, [WRITE_PROBE])),
    async close() {
      await jobs?.stop();
      await db.close();
    },
  };
}
