import {
  createPool,
  detectEngine,
  migrate,
  type Pool,
  pingPool,
  startEmbeddedPostgres,
} from '@fitness/pg-kit';
import type { Logger } from '@fitness/server-kit';
import { PgWorkoutsStore } from './datasources/WorkoutsStore.js';

export const migrationsDir = new URL('../migrations', import.meta.url).pathname;

export interface WorkoutsStores {
  pool: Pool;
  store: PgWorkoutsStore;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Connects to TimescaleDB (or starts the embedded PGlite with TimescaleDB) and
 * applies migrations. A server without the extension is plain PostgreSQL: the
 * same tables without hypertables, so the service still runs, only slower at scale.
 */
export async function openStores(
  config: { databaseUrl: string | undefined; dataDir: string },
  logger: Logger,
): Promise<WorkoutsStores> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.dataDir, timescale: true, logger });
  const url = config.databaseUrl ?? embedded!.url;
  const pool = createPool(url, { applicationName: 'workouts' });
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  try {
    const engine = await detectEngine(pool);
    if (engine === 'postgres') {
      logger.warn('TimescaleDB is not available: workouts runs on plain PostgreSQL tables');
    }
    await migrate(pool, { dir: migrationsDir, engine, logger });
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  return {
    pool,
    store: new PgWorkoutsStore(pool),
    ready: () => pingPool(pool),
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}
