import { randomBytes } from 'node:crypto';
import { hasNatsServer, realService } from '@fitness/testing';
import { type Collection, type Document, MongoClient, type ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsumerMetrics,
  MONGO_OUTBOX_INDEX,
  mongoOutboxFields,
  type OutboxRelayStats,
  withMongoOutbox,
} from '../src/index.js';
import { workoutLogged } from './helpers.js';
import { ExactlyOnceRig } from './worker.js';

/**
 * The pg exactly-once test's pattern for the Mongo outbox: events written inside the
 * documents they describe (inserts and updates), relays in their own processes, one
 * SIGKILLed mid-batch with its leases held, two more sharing the rest, and an
 * idempotent consumer applying every event once.
 */
const TOTAL = 10_000;
const LEASE_MS = 3_000;

const adminUrl = realService('postgres', 'events Mongo exactly-once (consumer store)');
const mongoUrl = realService('mongodb', 'events Mongo exactly-once');
const runnable = adminUrl && mongoUrl && hasNatsServer();
if (adminUrl && mongoUrl && !runnable)
  process.stdout.write('\n  skipped: no nats-server on PATH; events Mongo exactly-once did not run\n\n');

describe.skipIf(!runnable)(
  'Mongo outbox -> NATS -> idempotent consumer, with a relay killed mid-batch',
  () => {
    let rig: ExactlyOnceRig;
    let client: MongoClient;
    let items: Collection<Document>;
    const mongoDb = `events_once_${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      rig = await ExactlyOnceRig.open(adminUrl!, 'm');
      client = new MongoClient(mongoUrl!);
      await client.connect();
      items = client.db(mongoDb).collection('items');
      await items.createIndex(MONGO_OUTBOX_INDEX.key, MONGO_OUTBOX_INDEX.options);
    });

    afterAll(async () => {
      await rig?.close();
      await client?.db(mongoDb).dropDatabase();
      await client?.close();
    });

    let expectedSum = 0;
    let written = 0;
    const inserted: ObjectId[] = [];
    const nextEvent = () => {
      const calories = (written++ % 97) + 1;
      expectedSum += calories;
      return workoutLogged(calories);
    };
    /** Inserts `count` documents carrying one event each, 250 per insertMany. */
    async function insertDocuments(count: number): Promise<void> {
      for (let done = 0; done < count; done += 250) {
        const docs = Array.from({ length: Math.min(250, count - done) }, () => ({
          kind: 'item',
          ...mongoOutboxFields([nextEvent()]),
        }));
        const { insertedIds } = await items.insertMany(docs);
        inserted.push(...(Object.values(insertedIds) as ObjectId[]));
      }
    }
    /** Appends one event each to `count` existing documents, some still pending, some leased. */
    async function appendToDocuments(count: number): Promise<void> {
      for (let i = 0; i < count; i += 10) {
        await Promise.all(
          inserted
            .slice(i, i + 10)
            .map((_id) => items.updateOne({ _id }, withMongoOutbox({ $inc: { changes: 1 } }, [nextEvent()]))),
        );
      }
    }

    const start = (script: string, env: Record<string, string> = {}) =>
      rig.start(script, {
        OUTBOX: 'mongo',
        MONGODB_URL: mongoUrl!,
        MONGO_DB: mongoDb,
        MONGO_COLLECTION: 'items',
        LEASE_MS: String(LEASE_MS),
        ...env,
      });

    it('should apply every event exactly once', async () => {
      await insertDocuments(TOTAL / 2);

      // The relay dies with events published and acknowledged, its documents still leased.
      const relay1 = start('relayWorker.ts', { HANG_AFTER: '150' });
      await relay1.said('MID');
      await relay1.kill();
      expect(await items.countDocuments({ 'outbox.lease': { $exists: true } })).toBeGreaterThan(0);
      expect(await items.countDocuments({ 'outbox.since': { $exists: true } })).toBe(TOTAL / 2);

      const consumer = start('consumerWorker.ts');
      await consumer.said('READY');
      // Two relays share the rest and, once the dead one's leases expire, its documents.
      const relays = [start('relayWorker.ts'), start('relayWorker.ts')];
      await Promise.all(relays.map((r) => r.said('READY')));

      // Writes go on while they run: new documents, and events appended to old ones.
      await appendToDocuments(TOTAL / 4);
      await insertDocuments(TOTAL / 4);

      await rig.waitApplied(TOTAL, 120_000);
      const stats = await Promise.all(relays.map((r) => r.terminate<OutboxRelayStats>()));
      const consumerExit = await consumer.terminate<ConsumerMetrics>();
      expect(stats.map((s) => s.code)).toEqual([0, 0]);
      expect(consumerExit.code).toBe(0);
      // What the killed relay had published was published again; JetStream dropped it.
      expect(stats.reduce((n, s) => n + s.stats.duplicates, 0)).toBeGreaterThan(0);
      // Both relays took part.
      expect(stats.every((s) => s.stats.published > 0)).toBe(true);
      expect(consumerExit.stats.deadLettered).toBe(0);

      await rig.expectAppliedOnce(TOTAL, expectedSum);
      expect(await items.countDocuments({ outbox: { $exists: true } })).toBe(0);
      expect(await items.countDocuments({ outboxParked: { $exists: true } })).toBe(0);
      expect(await items.countDocuments({ changes: 1 })).toBe(TOTAL / 4);
    }, 180_000);
  },
);
