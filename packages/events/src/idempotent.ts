import type { Pool, PoolClient } from '@fitness/pg-kit';
import type { ConsumeOptions, DeliveryContext, EventBus, Subscription } from './bus.js';
import type { Envelope } from './envelope.js';

/**
 * Where a consumer records the events it has applied. `processOnce` runs `apply`
 * at most once per (consumer, event id); the record and the handler's own writes
 * commit together when the store can offer a transaction (`Tx`).
 */
export interface ProcessedEventStore<Tx = unknown> {
  /** 'duplicate' when the event was already processed; then `apply` is not called. */
  processOnce(
    consumer: string,
    eventId: string,
    apply: (tx: Tx) => Promise<void>,
  ): Promise<'processed' | 'duplicate'>;
}

/**
 * processed_events in the consumer's own PostgreSQL/TimescaleDB (see `sql/processed_events.sql`).
 * The handler receives the transaction's client: its writes and the id commit or roll back together.
 */
export class PgProcessedEventStore implements ProcessedEventStore<PoolClient> {
  constructor(private readonly pool: Pool) {}

  async processOnce(
    consumer: string,
    eventId: string,
    apply: (client: PoolClient) => Promise<void>,
  ): Promise<'processed' | 'duplicate'> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Insert first: a concurrent redelivery of the same id blocks on this row until we
      // commit, then finds it; checking before inserting would let both apply.
      const inserted = await client.query(
        'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [consumer, eventId],
      );
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK');
        return 'duplicate';
      }
      await apply(client);
      await client.query('COMMIT');
      return 'processed';
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

/**
 * In memory, for single-instance mode and tests: forgets everything on restart, and
 * keeps only the newest `maxIds` processed ids. Duplicates are redeliveries of
 * unacknowledged events and re-publishes within the duplicate window, so they are
 * of recent events; an older id that came back would be applied again.
 */
export class MemoryProcessedEventStore implements ProcessedEventStore<undefined> {
  /** Insertion order is processing order: the first id is the oldest. */
  private readonly done = new Set<string>();
  private readonly running = new Map<string, Promise<unknown>>();

  /** @param maxIds processed ids remembered; the oldest is forgotten first. @default 100_000 */
  constructor(private readonly maxIds = 100_000) {}

  /** Processed ids remembered now. */
  get size(): number {
    return this.done.size;
  }

  async processOnce(
    consumer: string,
    eventId: string,
    apply: (tx: undefined) => Promise<void>,
  ): Promise<'processed' | 'duplicate'> {
    const key = `${consumer}\u0000${eventId}`;
    // A concurrent delivery of the same id waits for the first one's outcome.
    while (this.running.has(key)) await this.running.get(key)?.catch(() => undefined);
    if (this.done.has(key)) return 'duplicate';
    const run = apply(undefined);
    this.running.set(key, run);
    try {
      await run;
      this.done.add(key);
      if (this.done.size > this.maxIds) this.done.delete(this.done.values().next().value as string);
      return 'processed';
    } finally {
      this.running.delete(key);
    }
  }
}

/** Where a handler whose store dedupes by itself reports whether its apply was a first one. */
export interface DedupeSlot {
  outcome: 'processed' | 'duplicate';
}

/**
 * For read models whose store dedupes inside its own atomic apply (a Redis script
 * that checks a marker and writes together), where a separate processed-events
 * record could not commit with the writes. The handler sets `slot.outcome` to
 * 'processed' on a first application; this store only lets idempotentConsumer
 * count what the handler's store detected.
 */
export class HandlerDedupe implements ProcessedEventStore<DedupeSlot> {
  async processOnce(
    _consumer: string,
    _eventId: string,
    apply: (slot: DedupeSlot) => Promise<void>,
  ): Promise<'processed' | 'duplicate'> {
    const slot: DedupeSlot = { outcome: 'duplicate' };
    await apply(slot);
    return slot.outcome;
  }
}

export interface ConsumerMetrics {
  processed: number;
  /** deliveries of events already processed (redeliveries, re-publishes) */
  duplicates: number;
  /** handler failures, each retried or dead-lettered */
  failures: number;
  deadLettered: number;
  /** now minus `occurredAt` of the last processed event; null before the first */
  lagMs: number | null;
  /** events not yet delivered plus delivered and unacknowledged, as the broker reports */
  pending: number | null;
}

export interface IdempotentConsumerOptions<Tx> extends Omit<ConsumeOptions, 'handler'> {
  /** durable consumer name; also the key space in the store */
  name: string;
  bus: EventBus;
  store: ProcessedEventStore<Tx>;
  /** Applies the event; with a pg store, write through `tx` so it commits with the processed id. */
  handler: (event: Envelope, tx: Tx, delivery: DeliveryContext) => Promise<void>;
}

export interface IdempotentConsumer {
  readonly subscription: Subscription;
  metrics(): Promise<ConsumerMetrics>;
  /** Finishes in-flight events, then stops. */
  stop(): Promise<void>;
}

/**
 * Starts a durable consumer whose handler runs at most once per event id (and,
 * with at-least-once delivery, therefore exactly once), with counters for /metrics.
 */
export async function idempotentConsumer<Tx>(
  options: IdempotentConsumerOptions<Tx>,
): Promise<IdempotentConsumer> {
  const counts = { processed: 0, duplicates: 0, failures: 0 };
  let lastOccurredAt: number | null = null;
  const { name, bus, store, handler, ...consume } = options;
  const subscription = await bus.consume(name, {
    ...consume,
    handler: async (event, delivery) => {
      try {
        const outcome = await store.processOnce(name, event.id, (tx) => handler(event, tx, delivery));
        if (outcome === 'duplicate') counts.duplicates++;
        else {
          counts.processed++;
          lastOccurredAt = Date.parse(event.occurredAt);
        }
      } catch (error) {
        counts.failures++;
        throw error;
      }
    },
  });
  return {
    subscription,
    async metrics() {
      const state = await bus.consumerState(name).catch(() => null);
      return {
        ...counts,
        deadLettered: subscription.stats().deadLettered,
        lagMs: lastOccurredAt === null ? null : Math.max(0, Date.now() - lastOccurredAt),
        pending: state ? state.pending + state.ackPending : null,
      };
    },
    stop: () => subscription.stop(),
  };
}
