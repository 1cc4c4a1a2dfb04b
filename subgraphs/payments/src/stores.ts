import { type DatabaseStores, migrate, openServiceDatabase, probeWrites } from '@fitness/pg-kit';
import { cachedCheck, type Logger } from '@fitness/server-kit';
import { PgPaymentsStore } from './datasources/PaymentsStore.js';

export const migrationsDir = new URL('../migrations', import.meta.url).pathname;

/**
 * What /ready writes (and rolls back): an outbox row, which every payment write
 * carries. A database that answers SELECT 1 but refuses it is not ready.
 */
const WRITE_PROBE = `INSERT INTO outbox (id, type, version, payload) VALUES (gen_random_uuid(), 'ready.probe', 1, '{}')`;

export type PaymentsStores = DatabaseStores<PgPaymentsStore>;

/** Connects to PostgreSQL (or starts the embedded engine) and applies migrations. */
export async function openStores(
  config: { databaseUrl: string | undefined; dataDir: string; pendingTimeoutSeconds: number },
  logger: Logger,
): Promise<PaymentsStores> {
  const db = await openServiceDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    timescale: false,
    applicationName: 'payments',
    logger,
    // Plain PostgreSQL: payments has no time-series tables.
    prepare: (pool) => migrate(pool, { dir: migrationsDir, engine: 'postgres', logger }),
  });
  return {
    url: db.url,
    pool: db.pool,
    store: new PgPaymentsStore(db.pool, { pendingTimeoutSeconds: config.pendingTimeoutSeconds }),
    ready: cachedCheck(() => probeWrites(db.pool, [WRITE_PROBE])),
    close: db.close,
  };
}
