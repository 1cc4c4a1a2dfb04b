import { fileURLToPath } from 'node:url';
import { isEmbeddedUrl, type Pool, type PoolClient } from '@fitness/pg-kit';
import type { OutboxBacklog, ServiceMetrics } from '@fitness/server-kit';
import pg from 'pg';
import type { Logger } from 'pino';
import { type EventBus, errorMessage } from './bus.js';
import { defaultRegistry, type Envelope, EnvelopeError, type EventRegistry } from './envelope.js';
import { RelayLoop } from './relayLoop.js';

/** DDL of the outbox table, for a service to copy into its migrations. */
export const OUTBOX_SQL_PATH = fileURLToPath(new URL('../sql/outbox.sql', import.meta.url));
/** DDL of processed_events, for a consumer to copy into its migrations. */
export const PROCESSED_EVENTS_SQL_PATH = fileURLToPath(
  new URL('../sql/processed_events.sql', import.meta.url),
);

/** The NOTIFY channel `writeOutbox` signals and the relay listens on. */
export const DEFAULT_OUTBOX_CHANNEL = 'outbox';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
function identifier(name: string): string {
  if (!IDENTIFIER.test(name))
    throw new Error(`${JSON.stringify(name)} is not a plain lower-case SQL identifier.`);
  return `"${name}"`;
}

export interface WriteOutboxOptions {
  /** @default 'outbox' */
  table?: string;
  /** @default 'outbox'; null sends no NOTIFY */
  channel?: string | null;
  /** @default defaultRegistry */
  registry?: EventRegistry;
}

/**
 * Adds an event to the outbox on `client`, which must be inside the business
 * transaction: the event exists exactly when the change it describes commits.
 * The NOTIFY is transactional too, so the relay wakes only after the commit.
 * @throws EnvelopeError before anything is written when the event is invalid
 */
export async function writeOutbox(
  client: PoolClient | pg.Client,
  envelope: Envelope,
  options: WriteOutboxOptions = {},
): Promise<void> {
  const valid = (options.registry ?? defaultRegistry).validate(envelope);
  await client.query(
    `INSERT INTO ${identifier(options.table ?? 'outbox')} (id, type, version, payload) VALUES ($1, $2, $3, $4)`,
    [valid.id, valid.type, valid.version, JSON.stringify(envelope)],
  );
  const channel = options.channel === undefined ? DEFAULT_OUTBOX_CHANNEL : options.channel;
  // PostgreSQL folds identical notifications of one transaction into one.
  if (channel) await client.query('SELECT pg_notify($1, $2)', [channel, '']);
}

export interface OutboxRelayOptions {
  pool: Pool;
  bus: EventBus;
  logger: Logger;
  /**
   * Database URL for a dedicated LISTEN connection; without it the relay only polls.
   * Leave it unset for the embedded PGlite, which serves one connection.
   */
  listenUrl?: string;
  /** @default 'outbox' */
  table?: string;
  /** @default 'outbox' */
  channel?: string;
  /** Rows claimed per transaction. @default 500 */
  batchSize?: number;
  /** Poll interval when no NOTIFY arrives (also the safety net when one is lost). @default 250 */
  pollIntervalMs?: number;
  /** Rows whose envelope failed validation this many times are parked (left for an operator). @default 3 */
  maxAttempts?: number;
  /** Longest wait between tries while the bus fails. @default 5_000 */
  maxRetryDelayMs?: number;
}

export interface OutboxRelayStats {
  published: number;
  /** re-publishes the broker dropped as duplicates (after a relay crash) */
  duplicates: number;
  batches: number;
  /** publish attempts that failed (bus down or invalid envelope) */
  failures: number;
}

interface OutboxRow {
  id: string;
  payload: Envelope;
}

/**
 * Publishes outbox rows to the bus. Each batch is one transaction: claim with
 * `FOR UPDATE SKIP LOCKED` (so replicas share the work), publish, mark published,
 * commit. A crash anywhere rolls the claim back and the rows are published again
 * later; the broker's duplicate window and the consumers' dedupe absorb that.
 */
export class OutboxRelay {
  private readonly table: string;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly loop: RelayLoop;
  private listener: pg.Client | null = null;
  private readonly counters: OutboxRelayStats = { published: 0, duplicates: 0, batches: 0, failures: 0 };

  constructor(private readonly options: OutboxRelayOptions) {
    this.table = identifier(options.table ?? 'outbox');
    this.batchSize = options.batchSize ?? 500;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.loop = new RelayLoop({
      bus: options.bus,
      logger: options.logger,
      name: 'outbox relay batch',
      batchSize: this.batchSize,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 5_000,
      round: () => this.relayBatch(),
    });
  }

  /** Starts relaying in the background. */
  async start(): Promise<void> {
    if (this.loop.running) return;
    await this.listen();
    this.loop.start();
  }

  /** Finishes the batch in flight (publishes and commits it), then stops. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
  }

  stats(): OutboxRelayStats {
    return { ...this.counters };
  }

  /** Rows waiting to be published (parked ones excluded). */
  async backlog(): Promise<number> {
    return (await this.backlogStats()).events;
  }

  /** Rows waiting to be published (parked ones excluded), and how long the oldest has waited. */
  async backlogStats(): Promise<OutboxBacklog> {
    const { rows } = await this.options.pool.query<{ n: string; age: string | null }>(
      `SELECT count(*) AS n, extract(epoch FROM now() - min(created_at)) AS age
       FROM ${this.table} WHERE published_at IS NULL AND attempts < $1`,
      [this.maxAttempts],
    );
    return { events: Number(rows[0]?.n ?? 0), oldestAgeSeconds: Math.max(0, Number(rows[0]?.age ?? 0)) };
  }

  /** Reports the backlog in the service's metrics, as outbox `table`. */
  observe(metrics: ServiceMetrics): void {
    metrics.outbox(this.options.table ?? 'outbox', () => this.backlogStats());
  }

  private async listen(): Promise<void> {
    if (!this.options.listenUrl) return;
    const client = new pg.Client({ connectionString: this.options.listenUrl });
    client.on('notification', () => this.loop.wake());
    // A lost LISTEN connection only costs latency: polling continues.
    client.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'outbox LISTEN connection lost; polling only');
      this.listener = null;
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${identifier(this.options.channel ?? DEFAULT_OUTBOX_CHANNEL)}`);
      this.listener = client;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox LISTEN unavailable; polling only');
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Claims, publishes and marks one batch; returns how many rows it claimed.
   * Rows whose publish failed on the bus stay unpublished and the call throws
   * after committing the rest, so the caller backs off.
   */
  async relayBatch(): Promise<number> {
    const client = await this.options.pool.connect();
    let transientError: unknown = null;
    let claimed = 0;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, payload FROM ${this.table}
         WHERE published_at IS NULL AND attempts < $1
         ORDER BY created_at, id
         LIMIT $2
         FOR UPDATE SKIP LOCKED`,
        [this.maxAttempts, this.batchSize],
      );
      claimed = rows.length;
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      // Published together: the client pipelines them on one connection, in claim order.
      const results = await Promise.allSettled(rows.map((row) => this.options.bus.publish(row.payload)));
      const published: string[] = [];
      const invalid: { id: string; error: string }[] = [];
      results.forEach((result, i) => {
        const id = rows[i]!.id;
        if (result.status === 'fulfilled') {
          published.push(id);
          if (result.value.duplicate) this.counters.duplicates++;
        } else if (result.reason instanceof EnvelopeError) {
          invalid.push({ id, error: result.reason.message });
        } else {
          transientError ??= result.reason;
        }
      });
      if (published.length > 0) {
        await client.query(`UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::uuid[])`, [
          published,
        ]);
      }
      for (const row of invalid) {
        await client.query(
          `UPDATE ${this.table} SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
          [row.id, row.error],
        );
      }
      await client.query('COMMIT');
      this.counters.published += published.length;
      this.counters.batches++;
      this.counters.failures += rows.length - published.length;
      if (invalid.length > 0) {
        this.options.logger.error(
          { rows: invalid },
          'outbox rows hold invalid events; parked after maxAttempts',
        );
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (transientError) throw new Error(`publish failed: ${errorMessage(transientError)}`);
    return claimed;
  }
}

/**
 * Starts the relay of a service's outbox the way every service wants it: woken by
 * LISTEN/NOTIFY on a real server, polling only on the embedded PGlite (which serves
 * one connection, so a listening connection would starve the pool).
 */
export async function startOutboxRelay(options: {
  pool: Pool;
  databaseUrl: string;
  bus: EventBus;
  logger: Logger;
}): Promise<OutboxRelay> {
  const relay = new OutboxRelay({
    pool: options.pool,
    bus: options.bus,
    logger: options.logger,
    ...(isEmbeddedUrl(options.databaseUrl) ? {} : { listenUrl: options.databaseUrl }),
  });
  await relay.start();
  return relay;
}
