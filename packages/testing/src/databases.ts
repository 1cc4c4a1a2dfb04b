import { startEmbeddedPostgres } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { createTestDatabase, realService } from './services.js';

export interface TestDatabase {
  url: string;
  close(): Promise<void>;
}

export interface PgEngine {
  /** e.g. 'pglite+timescaledb', 'postgresql' */
  name: string;
  create(): Promise<TestDatabase>;
}

const silent = createLogger('test', 'silent');

/**
 * The database engines a pg-based store suite runs against: embedded PGlite
 * (with TimescaleDB when asked), and the real PostgreSQL server when configured.
 */
export function pgEngines(suite: string, options: { timescale: boolean }): PgEngine[] {
  const engines: PgEngine[] = [
    {
      name: options.timescale ? 'pglite+timescaledb' : 'pglite',
      async create() {
        const embedded = await startEmbeddedPostgres({
          dataDir: 'memory://',
          timescale: options.timescale,
          logger: silent,
        });
        return { url: embedded.url, close: embedded.stop };
      },
    },
  ];
  const admin = realService('postgres', suite);
  if (admin) {
    engines.push({
      name: 'postgresql',
      async create() {
        const db = await createTestDatabase(admin);
        return { url: db.url, close: db.drop };
      },
    });
  }
  return engines;
}
