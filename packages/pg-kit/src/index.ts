export {
  type DatabaseStores,
  openServiceDatabase,
  type ServiceDatabase,
  type ServiceDatabaseOptions,
} from './database.js';
export { type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from './embedded.js';
export { detectEngine, type Engine, loadMigrations, type Migration, migrate } from './migrate.js';
export {
  createPool,
  isEmbeddedUrl,
  PgErrorCode,
  type Pool,
  type PoolClient,
  type PoolOptions,
  pgErrorCode,
  pingPool,
  probeWrites,
  withTransaction,
} from './pool.js';
