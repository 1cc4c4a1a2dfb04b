/**
 * The MongoDB outbox needs no transaction: a document carries the events of the
 * changes made to it, in the same single-document write as the change, which is
 * atomic on a standalone mongod as on a replica set. While a document has events to
 * publish it holds an `outbox` field:
 *
 * ```
 * outbox: { events: MongoPendingEvent[], since: Date, lease?: { owner, token, until } }
 * outboxParked: [{ event, error, at }]   // events the bus refused as invalid
 * ```
 *
 * `since` is the time of the oldest pending event (the relay's order); the relay
 * leases the document, publishes its events, then removes what it published and,
 * when nothing else arrived meanwhile, the whole field.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxBacklog, ServiceMetrics } from '@fitness/server-kit';
import type { AnyBulkWriteOperation, Collection, Document, Filter, UpdateFilter } from 'mongodb';
import type { Logger } from 'pino';
import { type EventBus, errorMessage } from './bus.js';
import { defaultRegistry, type Envelope, EnvelopeError, type EventRegistry } from './envelope.js';
import type { OutboxRelayStats } from './outbox.js';
import { RelayLoop } from './relayLoop.js';

/** One pending event inside a document. `id` is the event id, the broker's de-duplication id. */
export interface MongoPendingEvent {
  id: string;
  type: string;
  version: number;
  envelope: Envelope;
  createdAt: Date;
}

/** A relay's claim on a document; an expired one is free to take over. */
export interface MongoOutboxLease {
  owner: string;
  /** One per claiming round, so that a relay only ever clears what that round read. */
  token: string;
  until: Date;
}

/** The `outbox` field of a document with events to publish. */
export interface MongoOutboxField {
  events: MongoPendingEvent[];
  since: Date;
  lease?: MongoOutboxLease;
}

/** An event the bus refused as invalid: kept on the document for an operator, never retried. */
export interface MongoParkedEvent {
  event: MongoPendingEvent;
  error: string;
  at: Date;
}

/**
 * The index the relay's claim query uses; create it with the collection
 * (mongoose: `schema.index(MONGO_OUTBOX_INDEX.key, MONGO_OUTBOX_INDEX.options)`).
 * Partial, so documents without pending events cost it nothing.
 */
export const MONGO_OUTBOX_INDEX = {
  key: { 'outbox.since': 1 },
  options: { name: 'outbox_pending', partialFilterExpression: { 'outbox.since': { $exists: true } } },
} as const;

function pendingEvents(
  envelopes: readonly Envelope[],
  registry: EventRegistry,
  at: Date,
): MongoPendingEvent[] {
  return envelopes.map((envelope) => {
    const valid = registry.validate(envelope);
    return { id: valid.id, type: valid.type, version: valid.version, envelope, createdAt: at };
  });
}

/**
 * The fields to put into a document being inserted so that it carries `envelopes`
 * until the relay has published them: `{ ...doc, ...mongoOutboxFields([event]) }`.
 * @throws EnvelopeError before anything is written when an event is invalid
 */
export function mongoOutboxFields(
  envelopes: readonly Envelope[],
  options: { registry?: EventRegistry } = {},
): { outbox: MongoOutboxField } {
  const at = new Date();
  return { outbox: { events: pendingEvents(envelopes, options.registry ?? defaultRegistry, at), since: at } };
}

/**
 * `update` with `envelopes` appended to the document's pending events, for an
 * update that describes a change: the event is written exactly when the change is.
 * The update must not itself touch the `outbox` field.
 * @throws EnvelopeError before anything is written when an event is invalid
 */
export function withMongoOutbox<T extends Document>(
  update: UpdateFilter<T>,
  envelopes: readonly Envelope[],
  options: { registry?: EventRegistry } = {},
): UpdateFilter<T> {
  const at = new Date();
  const events = pendingEvents(envelopes, options.registry ?? defaultRegistry, at);
  const merged = { ...update } as Record<string, Record<string, unknown> | undefined>;
  merged.$push = { ...merged.$push, 'outbox.events': { $each: events } };
  merged.$min = { ...merged.$min, 'outbox.since': at };
  return merged as UpdateFilter<T>;
}

export interface MongoOutboxRelayOptions {
  /** The collection whose documents carry events; a driver collection (mongoose: `connection.db.collection(name)`). */
  collection: Collection<Document>;
  bus: EventBus;
  logger: Logger;
  /** Documents leased per round. @default 100 */
  batchSize?: number;
  /** Poll interval when no document waits. @default 250 */
  pollIntervalMs?: number;
  /** How long a claim lasts; a relay that dies loses its documents to others after this. @default 30_000 */
  leaseMs?: number;
  /** Longest wait between rounds while the bus fails. @default 5_000 */
  maxRetryDelayMs?: number;
  /**
   * Documents that exist only to carry their events out (tombstones of deleted
   * records, e.g. `{ deletedAt: { $exists: true } }`): once every event of such a
   * document is published, the relay deletes the document instead of clearing its
   * field. A deleted record's last event is thus written in the same single-document
   * write as the deletion, and the document goes when the event is out. One with
   * parked events stays for an operator. @default none
   */
  removeWhenPublished?: Filter<Document>;
}

/** The driver's update types cannot follow dotted paths into a schema-less document. */
const asUpdate = (update: Document) => update as UpdateFilter<Document>;

interface Claimed {
  _id: unknown;
  outbox?: MongoOutboxField;
}

/** What publishing one document's events came to. */
interface Settled {
  doc: Claimed;
  published: string[];
  parked: MongoParkedEvent[];
  /** A transient publish failure: this event and the later ones stay for the next round. */
  failed: unknown;
}

/**
 * Publishes the events documents carry in their `outbox` field. Each round
 * finds up to `batchSize` documents whose events wait and whose lease is free or
 * expired, leases them with one update (atomic per document, so of several relays
 * only one gets each), reads back what it got, publishes every event in document
 * order, then removes what was published. A relay killed after publishing leaves
 * leased documents that another relay takes over when the lease expires and
 * publishes again: the broker's duplicate window and the consumers' dedupe absorb
 * that. Leases are compared with this process's clock.
 */
export class MongoOutboxRelay {
  private readonly owner = randomUUID();
  private readonly collection: Collection<Document>;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly counters: OutboxRelayStats = { published: 0, duplicates: 0, batches: 0, failures: 0 };
  private readonly loop: RelayLoop;

  constructor(private readonly options: MongoOutboxRelayOptions) {
    this.collection = options.collection;
    this.batchSize = options.batchSize ?? 100;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.loop = new RelayLoop({
      bus: options.bus,
      logger: options.logger,
      name: 'mongo outbox round',
      batchSize: this.batchSize,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 5_000,
      round: () => this.relayRound(),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Finishes the round in flight (publishes and clears it), then stops. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  stats(): OutboxRelayStats {
    return { ...this.counters };
  }

  /** Documents with events waiting (leased ones included). */
  backlog(): Promise<number> {
    return this.collection.countDocuments({ 'outbox.since': { $exists: true } });
  }

  /** Documents with events waiting, and how long the oldest has waited. */
  async backlogStats(): Promise<OutboxBacklog> {
    const waiting = { 'outbox.since': { $exists: true } };
    const [events, oldest] = await Promise.all([
      this.collection.countDocuments(waiting),
      this.collection.findOne(waiting, { sort: { 'outbox.since': 1 }, projection: { 'outbox.since': 1 } }),
    ]);
    const since = (oldest?.outbox as { since?: Date } | undefined)?.since;
    return { events, oldestAgeSeconds: since ? Math.max(0, (Date.now() - since.getTime()) / 1000) : 0 };
  }

  /** Reports the backlog in the service's metrics, as outbox `<collection>`. */
  observe(metrics: ServiceMetrics): void {
    metrics.outbox(this.collection.collectionName, () => this.backlogStats());
  }

  /** The filter of documents with events and no live lease, at `now`. */
  private claimable(now: Date): Filter<Document> {
    return {
      'outbox.since': { $exists: true },
      $or: [{ 'outbox.lease': { $exists: false } }, { 'outbox.lease.until': { $lt: now } }],
    };
  }

  /**
   * Claims, publishes and clears one round. Returns how many documents were found
   * claimable (also those another relay claimed first), so the caller polls again
   * at once while a backlog lasts. Throws after clearing what was published when a
   * publish failed on the bus, so the caller backs off.
   */
  async relayRound(): Promise<number> {
    const now = new Date();
    const candidates = await this.collection
      .find(this.claimable(now), {
        sort: { 'outbox.since': 1 },
        limit: this.batchSize,
        projection: { _id: 1 },
      })
      .toArray();
    if (candidates.length === 0) return 0;
    const ids = candidates.map((doc) => doc._id);
    const lease: MongoOutboxLease = {
      owner: this.owner,
      token: randomUUID(),
      until: new Date(now.getTime() + this.leaseMs),
    };
    await this.collection.updateMany(
      { _id: { $in: ids }, ...this.claimable(now) },
      { $set: { 'outbox.lease': lease } },
    );
    const claimed = (await this.collection
      .find({ _id: { $in: ids }, 'outbox.lease.token': lease.token }, { projection: { outbox: 1 } })
      .toArray()) as Claimed[];
    if (claimed.length === 0) return candidates.length;

    const settled = await Promise.all(claimed.map((doc) => this.publishDocument(doc)));
    await this.collection.bulkWrite(
      settled.flatMap((s) => this.clearing(s, lease.token)),
      { ordered: true },
    );
    this.counters.batches++;
    const parked = settled.flatMap((s) => s.parked);
    if (parked.length > 0) {
      this.options.logger.error(
        { events: parked.map((p) => ({ id: p.event.id, type: p.event.type, error: p.error })) },
        'mongo outbox events are invalid; parked in outboxParked',
      );
    }
    const failed = settled.find((s) => s.failed !== null);
    if (failed) throw new Error(`publish failed: ${errorMessage(failed.failed)}`);
    return candidates.length;
  }

  /** Publishes one document's events in order, stopping at the first transient failure. */
  private async publishDocument(doc: Claimed): Promise<Settled> {
    const settled: Settled = { doc, published: [], parked: [], failed: null };
    for (const event of doc.outbox?.events ?? []) {
      try {
        const result = await this.options.bus.publish(event.envelope);
        if (result.duplicate) this.counters.duplicates++;
        this.counters.published++;
        settled.published.push(event.id);
      } catch (error) {
        this.counters.failures++;
        if (error instanceof EnvelopeError) {
          settled.parked.push({ event, error: error.message, at: new Date() });
          continue;
        }
        settled.failed = error;
        break;
      }
    }
    return settled;
  }

  /**
   * The writes that settle one document, both conditioned on this round's lease.
   * The first removes the whole field when the document still holds exactly the
   * events read (nothing was appended since); otherwise it matches nothing and the
   * second removes only the settled events and frees the lease, so events appended
   * meanwhile wait for the next round. Only a lease holder removes events, so an
   * unchanged count means unchanged events. A tombstone (`removeWhenPublished`) whose
   * events are all out is deleted first; the updates then match nothing.
   */
  private clearing(settled: Settled, token: string): AnyBulkWriteOperation<Document>[] {
    const { doc, published, parked, failed } = settled;
    const held = { _id: doc._id, 'outbox.lease.token': token } as Filter<Document>;
    const park = parked.length > 0 ? { $push: { outboxParked: { $each: parked } } } : {};
    const settledIds = [...published, ...parked.map((p) => p.event.id)];
    const operations: AnyBulkWriteOperation<Document>[] = [];
    if (failed === null) {
      const count = doc.outbox?.events.length ?? 0;
      const tombstone = this.options.removeWhenPublished;
      if (tombstone && parked.length === 0) {
        operations.push({
          deleteOne: { filter: { $and: [{ ...held, 'outbox.events': { $size: count } }, tombstone] } },
        });
      }
      operations.push({
        updateOne: {
          filter: { ...held, 'outbox.events': { $size: count } },
          update: asUpdate({ $unset: { outbox: '' }, ...park }),
        },
      });
    }
    operations.push({
      updateOne: {
        filter: held,
        update: asUpdate({
          $pull: { 'outbox.events': { id: { $in: settledIds } } },
          $unset: { 'outbox.lease': '' },
          ...park,
        }),
      },
    });
    return operations;
  }
}
