import type { Logger } from 'pino';
import { startEmbeddedPostgres } from './embedded.js';
import { createPool, type Pool } from './pool.js';

export interface ServiceDatabaseOptions<T> {
  /** The service's database URL; unset: the embedded engine, kept in `dataDir`. */
  url: string | undefined;
  dataDir: string;
  /** Load TimescaleDB into the embedded engine. */
  timescale: boolean;
  /** The service name, as `application_name` on every connection. */
  applicationName: string;
  logger: Logger;
  /** Runs once on the pool before it is handed out, e.g. the migrations; what it returns is `prepared`. */
  prepare: (pool: Pool) => Promise<T>;
}

export interface ServiceDatabase<T> {
  /** The database URL, the embedded one included (isEmbeddedUrl tells them apart). */
  url: string;
  pool: Pool;
  /** True when the embedded engine serves, started by this process. */
  embedded: boolean;
  prepared: T;
  /** Ends the pool, then stops the embedded engine. */
  close(): Promise<void>;
}

/** What a service on one PostgreSQL database opens: the database, its store, its readiness. */
export interface DatabaseStores<TStore> {
  /** The database URL, the embedded one included (isEmbeddedUrl tells them apart). */
  url: string;
  pool: Pool;
  store: TStore;
  /** Whether the database takes writes (a rolled-back probe, cached for a second). */
  ready(): Promise<boolean> | boolean;
  close(): Promise<void>;
}

/**
 * A service's PostgreSQL: the configured server, or the embedded engine when no
 * URL is set; a pool whose idle-connection errors are logged; `prepare` run on it.
 * A failing `prepare` ends the pool and the engine before it rethrows.
 */
export async function openServiceDatabase<T>(
  options: ServiceDatabaseOptions<T>,
): Promise<ServiceDatabase<T>> {
  const { logger } = options;
  const engine = options.url
    ? undefined
    : await startEmbeddedPostgres({ dataDir: options.dataDir, timescale: options.timescale, logger });
  const url = options.url ?? engine!.url;
  const pool = createPool(url, { applicationName: options.applicationName });
  pool.on('error', (err) => logger.error({ err }, 'idle database connection failed'));
  const close = async () => {
    await pool.end();
    await engine?.stop();
  };
  let prepared: T;
  try {
    prepared = await options.prepare(pool);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, pool, embedded: engine !== undefined, prepared, close };
}
