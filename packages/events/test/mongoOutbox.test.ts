import { randomBytes } from 'node:crypto';
import { realService } from '@fitness/testing';
import { type Collection, type Db, type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Envelope,
  EnvelopeError,
  type EventBus,
  InProcessEventBus,
  MONGO_OUTBOX_INDEX,
  MongoOutboxRelay,
  mongoOutboxFields,
  withMongoOutbox,
} from '../src/index.js';
import { silent, waitFor, workoutLogged } from './helpers.js';

const mongoUrl = realService('mongodb', 'events Mongo outbox relay');

/** An in-process bus and what reaches it. */
async function recordingBus(bus = new InProcessEventBus()) {
  const received: Envelope[] = [];
  const subscription = await bus.consume(`mongo-${randomBytes(3).toString('hex')}`, {
    subjects: ['workouts.>'],
    handler: async (event) => void received.push(event),
  });
  return { bus, received, stop: () => subscription.stop() };
}

/** A bus that lets a business write land between the relay's read of a document and its clear. */
function onFirstPublish(bus: EventBus, write: () => Promise<unknown>) {
  const publish = bus.publish.bind(bus);
  let written = false;
  bus.publish = async (envelope) => {
    if (!written) {
      written = true;
      await write();
    }
    return publish(envelope);
  };
}

describe.skipIf(!mongoUrl)('Mongo outbox: events inside the documents they describe', () => {
  let client: MongoClient;
  let db: Db;
  let items: Collection<Document>;
  const dbName = `events_test_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    client = new MongoClient(mongoUrl!);
    await client.connect();
    db = client.db(dbName);
  });
  beforeEach(async () => {
    items = db.collection(`items_${randomBytes(3).toString('hex')}`);
    await items.createIndex(MONGO_OUTBOX_INDEX.key, MONGO_OUTBOX_INDEX.options);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  const relayOf = (bus: EventBus, extra: Partial<ConstructorParameters<typeof MongoOutboxRelay>[0]> = {}) =>
    new MongoOutboxRelay({ collection: items, bus, logger: silent, pollIntervalMs: 20, ...extra });

  it('should validate before writing and store the event with the document in one insert', async () => {
    const event = workoutLogged(7);
    await items.insertOne({ _id: 'a' as never, name: 'a', ...mongoOutboxFields([event]) });
    const doc = await items.findOne({ _id: 'a' as never });
    expect(doc?.outbox).toMatchObject({
      events: [{ id: event.id, type: 'workouts.logged', version: 1, envelope: event }],
    });
    expect(doc?.outbox.since).toBeInstanceOf(Date);
    const broken = { ...workoutLogged(), payload: { calories: 'many' } } as unknown as Envelope;
    expect(() => mongoOutboxFields([broken])).toThrow(EnvelopeError);
    expect(() => withMongoOutbox({ $set: { x: 1 } }, [broken])).toThrow(EnvelopeError);
  });

  it('should publish each event once, in document order, and remove the field', async () => {
    const { bus, received, stop } = await recordingBus();
    const first = [workoutLogged(1), workoutLogged(2)];
    const second = [workoutLogged(3)];
    await items.insertMany([
      { name: 'one', ...mongoOutboxFields(first) },
      { name: 'two', ...mongoOutboxFields(second) },
      { name: 'quiet' },
    ]);
    const relay = relayOf(bus);
    expect(await relay.backlog()).toBe(2);
    relay.start();
    await waitFor(() => received.length === 3);
    await relay.stop();
    await stop();
    expect(received.map((e) => e.id).filter((id) => first.some((e) => e.id === id))).toEqual(
      first.map((e) => e.id),
    );
    expect(await items.countDocuments({ outbox: { $exists: true } })).toBe(0);
    expect(await relay.backlog()).toBe(0);
    expect(relay.stats()).toMatchObject({ published: 3, failures: 0 });
    // The documents themselves are untouched.
    expect((await items.find({}, { projection: { _id: 0 } }).toArray()).map((d) => d.name).sort()).toEqual([
      'one',
      'quiet',
      'two',
    ]);
  });

  it('should append an event with an update and publish it', async () => {
    const { bus, received, stop } = await recordingBus();
    const { insertedId } = await items.insertOne({ name: 'n', count: 0 });
    const event = workoutLogged(11);
    await items.updateOne({ _id: insertedId }, withMongoOutbox({ $inc: { count: 1 } }, [event]));
    expect((await items.findOne({ _id: insertedId }))?.count).toBe(1);
    const relay = relayOf(bus);
    relay.start();
    await waitFor(() => received.length === 1);
    await relay.stop();
    await stop();
    expect(received[0]?.id).toBe(event.id);
    expect(await items.findOne({ _id: insertedId })).toEqual({ _id: insertedId, name: 'n', count: 1 });
  });

  it('should delete a tombstone once its events are out, after one appended meanwhile too', async () => {
    const { bus, received, stop } = await recordingBus();
    const first = workoutLogged(1);
    const last = workoutLogged(2);
    const { insertedId: gone } = await items.insertOne({ name: 'x', ...mongoOutboxFields([first]) });
    const { insertedId: kept } = await items.insertOne({
      name: 'y',
      ...mongoOutboxFields([workoutLogged(3)]),
    });
    // The deletion: personal fields go, the last event joins the pending ones in the same write.
    await items.updateOne(
      { _id: gone },
      withMongoOutbox<Document>({ $set: { deletedAt: new Date() }, $unset: { name: '' } }, [last]),
    );
    const late = workoutLogged(4);
    onFirstPublish(bus, () =>
      items.updateOne({ _id: gone }, withMongoOutbox<Document>({ $set: { n: 1 } }, [late])),
    );
    const relay = relayOf(bus, { removeWhenPublished: { deletedAt: { $exists: true } } });
    await relay.relayRound();
    expect((await items.findOne({ _id: gone }))?.outbox.events.map((e: { id: string }) => e.id)).toEqual([
      late.id,
    ]);
    await relay.relayRound();
    expect(await items.findOne({ _id: gone })).toBeNull();
    expect(await items.findOne({ _id: kept })).toEqual({ _id: kept, name: 'y' });
    expect(received.map((e) => e.id)).toEqual(expect.arrayContaining([first.id, last.id, late.id]));
    expect(received).toHaveLength(4);
    await stop();
  });

  it('should keep an event appended while the relay holds the document for the next round', async () => {
    const { bus, received, stop } = await recordingBus();
    const before = workoutLogged(1);
    const during = workoutLogged(2);
    const { insertedId } = await items.insertOne({ n: 0, ...mongoOutboxFields([before]) });
    onFirstPublish(bus, () =>
      items.updateOne({ _id: insertedId }, withMongoOutbox({ $inc: { n: 1 } }, [during])),
    );
    const relay = relayOf(bus);
    await relay.relayRound();
    expect(received.map((e) => e.id)).toEqual([before.id]);
    const held = await items.findOne({ _id: insertedId });
    expect(held?.outbox.events.map((e: { id: string }) => e.id)).toEqual([during.id]);
    expect(held?.outbox.lease).toBeUndefined();
    await relay.relayRound();
    expect(received.map((e) => e.id)).toEqual([before.id, during.id]);
    expect((await items.findOne({ _id: insertedId }))?.outbox).toBeUndefined();
    await stop();
  });

  it('should take over an expired lease of a dead relay and leave a live lease alone', async () => {
    const { bus, received, stop } = await recordingBus();
    const orphan = workoutLogged(1);
    const owned = workoutLogged(2);
    const lease = (until: number) => ({ owner: 'dead', token: 'dead-round', until: new Date(until) });
    await items.insertMany([
      { _id: 'orphan' as never, ...mongoOutboxFields([orphan]) },
      { _id: 'owned' as never, ...mongoOutboxFields([owned]) },
    ]);
    await items.updateOne(
      { _id: 'orphan' as never },
      { $set: { 'outbox.lease': lease(Date.now() - 1_000) } },
    );
    await items.updateOne(
      { _id: 'owned' as never },
      { $set: { 'outbox.lease': lease(Date.now() + 60_000) } },
    );
    const relay = relayOf(bus);
    await relay.relayRound();
    expect(received.map((e) => e.id)).toEqual([orphan.id]);
    expect((await items.findOne({ _id: 'owned' as never }))?.outbox.events).toHaveLength(1);
    // The dead relay's late clear (its round's token) removes nothing it no longer holds.
    await items.updateOne(
      { _id: 'orphan' as never, 'outbox.lease.token': 'dead-round' },
      { $unset: { outbox: '' } },
    );
    expect(await relay.backlog()).toBe(1);
    await stop();
  });

  it('should keep every event while the bus fails and publish them once it is back', async () => {
    const { bus, received, stop } = await recordingBus();
    const events = [workoutLogged(1), workoutLogged(2)];
    await items.insertOne({ ...mongoOutboxFields(events) });
    const publish = bus.publish.bind(bus);
    let failing = true;
    bus.publish = (envelope) => (failing ? Promise.reject(new Error('bus down')) : publish(envelope));
    const relay = relayOf(bus);
    await expect(relay.relayRound()).rejects.toThrow('bus down');
    const kept = await items.findOne({});
    expect(kept?.outbox.events).toHaveLength(2);
    expect(kept?.outbox.lease).toBeUndefined();
    failing = false;
    await relay.relayRound();
    expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(await relay.backlog()).toBe(0);
    await stop();
  });

  it('should park an event the bus refuses as invalid and publish its valid neighbours', async () => {
    const { bus, received, stop } = await recordingBus();
    const good = workoutLogged(1);
    const bad = workoutLogged(2);
    await items.insertOne({ _id: 'mixed' as never, ...mongoOutboxFields([bad, good]) });
    // Valid when written, refused later (e.g. a relay whose registry no longer knows it).
    await items.updateOne(
      { _id: 'mixed' as never },
      { $set: { 'outbox.events.0.envelope.payload.calories': -1 } },
    );
    const relay = relayOf(bus);
    await relay.relayRound();
    expect(received.map((e) => e.id)).toEqual([good.id]);
    const doc = await items.findOne({ _id: 'mixed' as never });
    expect(doc?.outbox).toBeUndefined();
    expect(doc?.outboxParked).toHaveLength(1);
    expect(doc?.outboxParked[0]).toMatchObject({ event: { id: bad.id } });
    expect(doc?.outboxParked[0].error).toEqual(expect.any(String));
    expect(await relay.backlog()).toBe(0);
    await stop();
  });

  it('should share 600 documents between three relays, each event published once', async () => {
    const bus = new InProcessEventBus({ maxEvents: 100_000 });
    const published: string[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = (envelope) => {
      published.push(envelope.id);
      return publish(envelope);
    };
    const events = Array.from({ length: 600 }, (_, i) => workoutLogged(i + 1));
    for (let i = 0; i < events.length; i += 100) {
      await items.insertMany(events.slice(i, i + 100).map((e) => ({ ...mongoOutboxFields([e]) })));
    }
    const relays = [0, 1, 2].map(() => relayOf(bus, { batchSize: 50, pollIntervalMs: 5 }));
    for (const relay of relays) relay.start();
    await waitFor(async () => (await relays[0]!.backlog()) === 0, 60_000, 'an empty outbox');
    await Promise.all(relays.map((r) => r.stop()));
    expect(published).toHaveLength(600);
    expect(new Set(published).size).toBe(600);
    expect(relays.filter((r) => r.stats().published > 0).length).toBeGreaterThan(1);
  }, 90_000);
});
