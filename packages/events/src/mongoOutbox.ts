import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type EventBus, errorMessage } from './bus.js';
import { defaultRegistry, type Envelope, EnvelopeError, type EventRegistry } from './envelope.js';

/**
 * One outbox document. `_id` is the event id, so a retried insert of the same event
 * fails on the unique `_id` instead of emitting twice.
 *
 * Indexes to create with the collection: `{ publishedAt: 1, createdAt: 1 }`.
 */
export interface MongoOutboxDocument {
  _id: string;
  type: string;
  version: number;
  envelope: Envelope;
  createdAt: Date;
  /** null until the broker acknowledged it */
  publishedAt: Date | null;
  /** publishes refused because the envelope is invalid */
  attempts: number;
  lastError: string | null;
  /** a relay owns the document until then; an expired lease is free to claim */
  leaseUntil: Date | null;
  leaseOwner: string | null;
}

/**
 * The few collection methods used, typed structurally so that a mongodb driver
 * `Collection<MongoOutboxDocument>` (or mongoose's `Model.collection`) fits without
 * this package depending on a driver version.
 */
export interface MongoOutboxCollection {
  insertOne(doc: MongoOutboxDocument, options?: { session?: unknown }): Promise<unknown>;
  findOneAndUpdate(
    filter: Record<string, unknown>,
    update: Record<string, unknown>,
    options: { sort: Record<string, 1 | -1>; returnDocument: 'after' },
  ): Promise<MongoOutboxDocument | null>;
  updateOne(filter: Record<string, unknown>, update: Record<string, unknown>): Promise<unknown>;
}

/**
 * Adds an event to the outbox collection. Pass the session of the business
 * transaction (replica sets and sharded clusters) so both commit together.
 *
 * Fallback on a standalone mongod (no transactions): write the outbox document
 * FIRST, then the business change. If the process dies in between, the relay
 * publishes an event for a change that never happened, so consumers must treat
 * events as hints and read the source of truth when that matters; the opposite
 * order would silently lose events. Deployments should run a replica set (a
 * single-node one is enough) to get the transactional guarantee.
 * @throws EnvelopeError before anything is written when the event is invalid
 */
export async function writeMongoOutbox(
  collection: MongoOutboxCollection,
  envelope: Envelope,
  options: { session?: unknown; registry?: EventRegistry } = {},
): Promise<void> {
  const valid = (options.registry ?? defaultRegistry).validate(envelope);
  await collection.insertOne(
    {
      _id: valid.id,
      type: valid.type,
      version: valid.version,
      envelope,
      createdAt: new Date(),
      publishedAt: null,
      attempts: 0,
      lastError: null,
      leaseUntil: null,
      leaseOwner: null,
    },
    options.session === undefined ? {} : { session: options.session },
  );
}

export interface MongoOutboxRelayOptions {
  collection: MongoOutboxCollection;
  bus: EventBus;
  logger: Logger;
  /** Documents leased per round. @default 100 */
  batchSize?: number;
  /** Poll interval when the outbox is empty. @default 250 */
  pollIntervalMs?: number;
  /** How long a claim lasts; a relay that dies loses its documents to others after this. @default 30_000 */
  leaseMs?: number;
  /** Invalid envelopes are parked after this many refusals. @default 3 */
  maxAttempts?: number;
}

/**
 * Publishes the Mongo outbox. MongoDB has no SKIP LOCKED, so each relay leases
 * documents one `findOneAndUpdate` at a time (atomic per document), publishes the
 * round, then marks them published. A crashed relay's leases expire and the
 * documents are published again; the broker's duplicate window and the consumers'
 * dedupe absorb that. Change streams could replace polling on replica sets.
 */
export class MongoOutboxRelay {
  private readonly owner = randomUUID();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly options: MongoOutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  start(): void {
    this.stopping = false;
    this.loop ??= this.run();
  }

  /** Finishes the round in flight, then stops; leases of unpublished documents just expire. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let leased = 0;
      try {
        leased = this.options.bus.ready() ? await this.relayRound() : 0;
      } catch (error) {
        this.options.logger.warn({ err: error }, 'mongo outbox round failed; retrying');
      }
      if (leased < this.batchSize && !this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.pollIntervalMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** Leases, publishes and marks one round; returns how many documents it leased. */
  async relayRound(): Promise<number> {
    const { collection, bus } = this.options;
    const leased: MongoOutboxDocument[] = [];
    while (leased.length < this.batchSize) {
      const now = new Date();
      const doc = await collection.findOneAndUpdate(
        {
          publishedAt: null,
          attempts: { $lt: this.maxAttempts },
          $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }],
        },
        { $set: { leaseUntil: new Date(now.getTime() + this.leaseMs), leaseOwner: this.owner } },
        { sort: { createdAt: 1 }, returnDocument: 'after' },
      );
      if (!doc) break;
      leased.push(doc);
    }
    await Promise.all(
      leased.map(async (doc) => {
        try {
          await bus.publish(doc.envelope);
          // Only the lease holder marks it: if our lease expired and another relay took
          // over, its own publish is the one that counts (both are deduped anyway).
          await collection.updateOne(
            { _id: doc._id, leaseOwner: this.owner },
            { $set: { publishedAt: new Date(), leaseUntil: null, leaseOwner: null } },
          );
        } catch (error) {
          const invalid = error instanceof EnvelopeError;
          await collection.updateOne(
            { _id: doc._id, leaseOwner: this.owner },
            {
              $set: { leaseUntil: null, leaseOwner: null, lastError: errorMessage(error) },
              ...(invalid ? { $inc: { attempts: 1 } } : {}),
            },
          );
        }
      }),
    );
    return leased.length;
  }
}
