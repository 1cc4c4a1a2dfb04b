import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Pool } from './pool.js';

/** Which engine the migrations run on; picks `NNN_name.<engine>.sql` variants. */
export type Engine = 'timescale' | 'postgres';

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
  /**
   * Set by a first line `-- migrate:no-transaction`: some statements (TimescaleDB
   * continuous aggregates, CREATE INDEX CONCURRENTLY) refuse to run in a transaction.
   * Such a file runs statement by statement and must be written to be re-runnable.
   */
  transactional: boolean;
}

const NO_TRANSACTION = /^--\s*migrate:no-transaction\b/;

/** Splits a no-transaction migration on statement-ending semicolons at the end of a line. */
function statementsOf(sql: string): string[] {
  return sql
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.replace(/--.*$/gm, '').trim().length > 0);
}

const FILE = /^(\d{3,})_([a-z0-9_]+?)(?:\.(timescale|postgres))?\.sql$/;

/**
 * Reads `NNN_name.sql` files in version order. A version may instead come as a pair
 * `NNN_name.timescale.sql` + `NNN_name.postgres.sql`, one per engine.
 */
export function loadMigrations(dir: string, engine: Engine): Migration[] {
  const byVersion = new Map<string, Migration>();
  for (const file of readdirSync(dir).sort()) {
    const match = FILE.exec(file);
    if (!match) continue;
    const [, version, name, variant] = match as unknown as [string, string, string, Engine | undefined];
    if (variant && variant !== engine) continue;
    if (byVersion.has(version)) throw new Error(`Two migrations share version ${version} in ${dir}.`);
    const sql = readFileSync(join(dir, file), 'utf8');
    byVersion.set(version, {
      version,
      name,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
      transactional: !NO_TRANSACTION.test(sql),
    });
  }
  return [...byVersion.values()];
}

/** Whether the server can load TimescaleDB (installed or available to install). */
export async function detectEngine(pool: Pool): Promise<Engine> {
  const { rows } = await pool.query<{ available: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available",
  );
  return rows[0]?.available ? 'timescale' : 'postgres';
}

// Any constant works; it only has to be the same for every replica of a service.
const LOCK_KEY = 7_311_002;

/**
 * Applies pending migrations, each in its own transaction, under an advisory lock
 * so that replicas starting together apply each one once. An applied migration
 * whose file changed is an error: migrations are append-only.
 */
export async function migrate(
  pool: Pool,
  options: { dir: string; engine: Engine; logger: Logger },
): Promise<{ applied: string[] }> {
  const migrations = loadMigrations(options.dir, options.engine);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      const previous = done.get(m.version);
      if (previous !== undefined) {
        if (previous !== m.checksum) {
          throw new Error(
            `Migration ${m.version}_${m.name} changed after it was applied; add a new migration instead.`,
          );
        }
        continue;
      }
      const record = () =>
        client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
      try {
        if (m.transactional) {
          await client.query('BEGIN');
          await client.query(m.sql);
          await record();
          await client.query('COMMIT');
        } else {
          for (const statement of statementsOf(m.sql)) await client.query(statement);
          await record();
        }
      } catch (error) {
        if (m.transactional) await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`Migration ${m.version}_${m.name} failed: ${(error as Error).message}`);
      }
      applied.push(`${m.version}_${m.name}`);
      options.logger.info(
        { migration: `${m.version}_${m.name}`, engine: options.engine },
        'migration applied',
      );
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
