import pg from 'pg';
import { tracePool } from './tracing.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  /** @default 10; forced to 1 for the embedded engine, which serves one connection at a time */
  max?: number;
  applicationName?: string;
  /** Abort statements that run longer than this. @default 10_000 */
  statementTimeoutMs?: number;
}

export function isEmbeddedUrl(url: string): boolean {
  return new URL(url).searchParams.get('embedded') === 'pglite';
}

export function createPool(url: string, options: PoolOptions = {}): Pool {
  const parsed = new URL(url);
  const embedded = isEmbeddedUrl(url);
  parsed.searchParams.delete('embedded');
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: embedded ? 1 : (options.max ?? 10),
    idleTimeoutMillis: embedded ? 0 : 30_000,
    connectionTimeoutMillis: 10_000,
    application_name: options.applicationName,
    // PGlite does not accept startup options such as statement_timeout.
    ...(embedded ? {} : { statement_timeout: options.statementTimeoutMs ?? 10_000 }),
  });
  // Statements are spans while tracing (see tracePool).
  return tracePool(pool, parsed.pathname.replace(/^\//, '') || 'postgres');
}

/** Runs `fn` in one transaction: COMMIT on success, ROLLBACK on any error. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** /ready: the database answers a trivial query. */
export async function pingPool(pool: Pool): Promise<boolean> {
  try {
    await pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * /ready for a store that must take writes, not just answer: inside a transaction
 * that is always rolled back, the transaction must not be read-only (a standby, a
 * database or role set read-only) and `statements` must run, e.g. an insert that
 * fires the triggers every real write fires. Nothing is kept.
 */
export async function probeWrites(pool: Pool, statements: readonly string[] = []): Promise<boolean> {
  let client: PoolClient | undefined;
  let broken: Error | undefined;
  try {
    client = await pool.connect();
    await client.query('BEGIN');
    const { rows } = await client.query<{ ro: string }>(
      "SELECT current_setting('transaction_read_only') AS ro",
    );
    if (rows[0]?.ro !== 'off') return false;
    for (const statement of statements) await client.query(statement);
    return true;
  } catch (error) {
    broken = error as Error;
    return false;
  } finally {
    if (client) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A connection that failed mid-probe may be unusable: drop it rather than reuse it.
      client.release(broken);
    }
  }
}

/** PostgreSQL SQLSTATE codes the services translate into contract errors. */
export const PgErrorCode = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  INVALID_TEXT_REPRESENTATION: '22P02',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}
