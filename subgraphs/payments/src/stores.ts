import { createPool, migrate, type Pool, probeWrites, startEmbeddedPostgres } from '@fitness/pg-kit';
import { type Check, cachedCheck, type Logger } from '@fitness/server-kit';
import { PgPaymentsStore } from './datasources/PaymentsStore.js';

export const migrationsDir = new URL('../migrations', import.meta.url).pathname;

/**
 * What /ready writes (and rolls back): an outbox row, which every payment write
 * carries. A database that answers SELECT 1 but refuses it is not ready.
 */
const WRITE_PROBE = `INSERT INTO outbox (id, type, version, payload) VALUES (gen_random_uuid(), 'ready.probe', 1, '{}')`;

export interface PaymentsStores {
  /** The database URL, the embedded one included (isEmbeddedUrl tells them apart). */
  url: string;
  pool: Pool;
  store: PgPaymentsStore;
  /** Whether the database takes writes (a rolled-back probe, cached for a second). */
  ready: Check;
  close(): Promise<void>;
}

/** Connects to PostgreSQL (or starts the embedded engine) and applies migrations. */
export async function openStores(
  config: { databaseUrl: string | undefined; dataDir: string; pendingTimeoutSeconds: number },
  logger: Logger,
): Promise<PaymentsStores> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: config.dataDir, timescale: false, logger });
  const url = config.databaseUrl ?? embedded!.url;
  const pool = createPool(url, { applicationName: 'payments' });
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  try {
    // Plain PostgreSQL: payments has no time-series tables.
    await migrate(pool, { dir: migrationsDir, engine: 'postgres', logger });
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  return {
    url,
    pool,
    store: new PgPaymentsStore(pool, { pendingTimeoutSeconds: config.pendingTimeoutSeconds }),
    ready: cachedCheck(() => probeWrites(pool, [WRITE_PROBE])),
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}
