import { randomBytes } from 'node:crypto';
import { realService } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Envelope,
  InProcessEventBus,
  type MongoOutboxCollection,
  type MongoOutboxDocument,
  MongoOutboxRelay,
  writeMongoOutbox,
} from '../src/index.js';
import { silent, waitFor, workoutLogged } from './helpers.js';

interface MongoClientLike {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  db(name: string): {
    collection(
      name: string,
    ): MongoOutboxCollection & { find(filter: object): { toArray(): Promise<MongoOutboxDocument[]> } };
    dropDatabase(): Promise<unknown>;
  };
}

const mongoUrl = realService('mongodb', 'events Mongo outbox relay');
// The driver is the users subgraph's dependency, not this package's: load it only when a
// server exists, by a runtime specifier so that bundling and typechecking do not need it.
const DRIVER = 'mongodb';
const driver = mongoUrl
  ? await import(/* @vite-ignore */ DRIVER).catch(() => {
      process.stdout.write('\n  skipped: the mongodb driver is not resolvable from packages/events\n\n');
      return null;
    })
  : null;

describe.skipIf(!driver)('Mongo outbox relay', () => {
  let client: MongoClientLike;
  let collection: ReturnType<ReturnType<MongoClientLike['db']>['collection']>;
  const dbName = `events_test_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    client = new (driver as { MongoClient: new (url: string) => MongoClientLike }).MongoClient(mongoUrl!);
    await client.connect();
    collection = client.db(dbName).collection('outbox');
  });
  afterAll(async () => {
    await client?.db(dbName).dropDatabase();
    await client?.close();
  });

  it('should publish outbox documents once and mark them, taking over expired leases', async () => {
    const bus = new InProcessEventBus();
    const events = [workoutLogged(1), workoutLogged(2), workoutLogged(3)];
    for (const e of events) await writeMongoOutbox(collection, e);
    // A relay that died holding a lease: the document is free once the lease expires.
    const orphan = workoutLogged(4);
    await writeMongoOutbox(collection, orphan);
    await collection.updateOne(
      { _id: orphan.id },
      { $set: { leaseUntil: new Date(Date.now() - 1_000), leaseOwner: 'dead-relay' } },
    );
    const received: Envelope[] = [];
    const sub = await bus.consume('mongo', {
      subjects: ['workouts.>'],
      handler: async (e) => void received.push(e),
    });
    const relay = new MongoOutboxRelay({ collection, bus, logger: silent, pollIntervalMs: 20 });
    relay.start();
    await waitFor(() => received.length === 4);
    await relay.stop();
    await sub.stop();
    expect(received.map((e) => e.id).sort()).toEqual([...events, orphan].map((e) => e.id).sort());
    const docs = await collection.find({}).toArray();
    expect(docs.every((d) => d.publishedAt instanceof Date && d.leaseOwner === null)).toBe(true);
  });
});
