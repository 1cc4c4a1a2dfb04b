import { readFileSync } from 'node:fs';
import { createPool, type Pool } from '@fitness/pg-kit';
import { pgEngines, type TestDatabase } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Envelope,
  EnvelopeError,
  InProcessEventBus,
  idempotentConsumer,
  MemoryProcessedEventStore,
  OUTBOX_SQL_PATH,
  OutboxRelay,
  PgProcessedEventStore,
  PROCESSED_EVENTS_SQL_PATH,
  writeOutbox,
} from '../src/index.js';
import { silent, waitFor, workoutLogged } from './helpers.js';

describe.each(pgEngines('events outbox', { timescale: false }))(
  'pg outbox and idempotent consumer: $name',
  (engine) => {
    let db: TestDatabase;
    let pool: Pool;
    const embedded = engine.name.startsWith('pglite');

    beforeAll(async () => {
      db = await engine.create();
      pool = createPool(db.url, { max: 4 });
      await pool.query(readFileSync(OUTBOX_SQL_PATH, 'utf8'));
      await pool.query(readFileSync(PROCESSED_EVENTS_SQL_PATH, 'utf8'));
      await pool.query('CREATE TABLE totals (event_id uuid NOT NULL, calories integer NOT NULL)');
    });
    afterAll(async () => {
      await pool?.end();
      await db?.close();
    });

    async function write(events: Envelope[]) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const e of events) await writeOutbox(client, e);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }

    it('should publish committed outbox rows once, mark them and leave rolled-back ones out', async () => {
      const bus = new InProcessEventBus();
      const committed = [workoutLogged(1), workoutLogged(2), workoutLogged(3)];
      await write(committed);
      const client = await pool.connect();
      await client.query('BEGIN');
      await writeOutbox(client, workoutLogged(1000));
      await client.query('ROLLBACK');
      client.release();

      const relay = new OutboxRelay({
        pool,
        bus,
        logger: silent,
        batchSize: 2,
        pollIntervalMs: 20,
        ...(embedded ? {} : { listenUrl: db.url }),
      });
      const received: Envelope[] = [];
      const sub = await bus.consume('reader', {
        subjects: ['workouts.>'],
        handler: async (e) => void received.push(e),
      });
      await relay.start();
      await waitFor(() => received.length === 3);
      expect(received.map((e) => e.id)).toEqual(committed.map((e) => e.id));
      expect(received[0]).toEqual(committed[0]);
      expect(await relay.backlog()).toBe(0);
      // Woken by NOTIFY (or the poll) for rows written while it runs.
      const later = workoutLogged(4);
      await write([later]);
      await waitFor(() => received.length === 4);
      await relay.stop();
      await sub.stop();
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
      expect(rows[0].n).toBe(0);
      await pool.query('DELETE FROM outbox');
    });

    it('should refuse to write an invalid event into the outbox', async () => {
      const client = await pool.connect();
      try {
        await expect(writeOutbox(client, { ...workoutLogged(), version: 3 })).rejects.toThrow(EnvelopeError);
      } finally {
        client.release();
      }
    });

    it('should park rows holding invalid envelopes after maxAttempts and publish the rest', async () => {
      const bus = new InProcessEventBus();
      const bad = { ...workoutLogged(), type: 'workouts.unknown' };
      await pool.query('INSERT INTO outbox (id, type, version, payload) VALUES ($1, $2, $3, $4)', [
        bad.id,
        bad.type,
        1,
        JSON.stringify(bad),
      ]);
      const good = workoutLogged(9);
      await write([good]);
      const relay = new OutboxRelay({ pool, bus, logger: silent, maxAttempts: 2 });
      for (let i = 0; i < 3; i++) await relay.relayBatch();
      const { rows } = await pool.query(
        'SELECT id, attempts, last_error, published_at FROM outbox ORDER BY created_at',
      );
      expect(rows).toEqual([
        expect.objectContaining({
          id: bad.id,
          attempts: 2,
          published_at: null,
          last_error: 'unknown event type workouts.unknown',
        }),
        expect.objectContaining({ id: good.id, attempts: 0, published_at: expect.any(Date) }),
      ]);
      expect(await relay.backlog()).toBe(0);
      await pool.query('DELETE FROM outbox');
    });

    it('should keep rows unpublished while the bus refuses them, then publish them', async () => {
      const bus = new InProcessEventBus();
      let down = true;
      const flaky = Object.assign(Object.create(bus), {
        publish: (e: Envelope) => (down ? Promise.reject(new Error('broker unavailable')) : bus.publish(e)),
        ready: () => true,
      });
      await write([workoutLogged(1), workoutLogged(2)]);
      const relay = new OutboxRelay({ pool, bus: flaky, logger: silent });
      await expect(relay.relayBatch()).rejects.toThrow(/broker unavailable/);
      expect(await relay.backlog()).toBe(2);
      down = false;
      expect(await relay.relayBatch()).toBe(2);
      expect(await relay.backlog()).toBe(0);
      await pool.query('DELETE FROM outbox');
    });

    it('should finish the claimed batch on stop()', async () => {
      const bus = new InProcessEventBus();
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let publishing = false;
      const slow = Object.assign(Object.create(bus), {
        publish: async (e: Envelope) => {
          publishing = true;
          await gate;
          return bus.publish(e);
        },
        ready: () => true,
      });
      await write([workoutLogged(1), workoutLogged(2)]);
      const relay = new OutboxRelay({ pool, bus: slow, logger: silent, pollIntervalMs: 10 });
      await relay.start();
      await waitFor(() => publishing);
      const stopped = relay.stop();
      release();
      await stopped;
      expect(relay.stats()).toMatchObject({ published: 2, batches: 1 });
      expect(await relay.backlog()).toBe(0);
      await pool.query('DELETE FROM outbox');
    });

    it('should apply each event once with the pg store, even when delivered twice', async () => {
      const bus = new InProcessEventBus({ duplicateWindowMs: 0 });
      const events = [workoutLogged(10), workoutLogged(20), workoutLogged(30)];
      for (const e of events) await bus.publish(e);
      // Outside the duplicate window the broker accepts it again: the consumer must dedupe.
      await bus.publish(events[1]!);
      let failOnce = true;
      const consumer = await idempotentConsumer({
        name: 'totals',
        bus,
        store: new PgProcessedEventStore(pool),
        subjects: ['workouts.logged'],
        backoff: [10],
        handler: async (event, client) => {
          await client.query('INSERT INTO totals (event_id, calories) VALUES ($1, $2)', [
            event.id,
            (event.payload as { calories: number }).calories,
          ]);
          // Fails after its write: the rollback must take the write and the processed id with it.
          if (event.id === events[2]!.id && failOnce) {
            failOnce = false;
            throw new Error('boom after write');
          }
        },
      });
      await waitFor(() => consumer.subscription.stats().acked === 4);
      const metrics = await consumer.metrics();
      expect(metrics).toMatchObject({
        processed: 3,
        duplicates: 1,
        failures: 1,
        deadLettered: 0,
        pending: 0,
      });
      expect(metrics.lagMs).toBeGreaterThanOrEqual(0);
      const { rows } = await pool.query('SELECT count(*)::int AS n, sum(calories)::int AS s FROM totals');
      expect(rows[0]).toEqual({ n: 3, s: 60 });
      await consumer.stop();
    });

    it('should skip duplicates with the in-memory store too', async () => {
      const bus = new InProcessEventBus({ duplicateWindowMs: 0 });
      const event = workoutLogged(7);
      await bus.publish(event);
      await bus.publish(event);
      let applied = 0;
      const consumer = await idempotentConsumer({
        name: 'memory',
        bus,
        store: new MemoryProcessedEventStore(),
        subjects: ['workouts.>'],
        concurrency: 2,
        handler: async () => {
          applied++;
        },
      });
      await waitFor(() => consumer.subscription.stats().acked === 2);
      expect(applied).toBe(1);
      expect(await consumer.metrics()).toMatchObject({ processed: 1, duplicates: 1 });
      await consumer.stop();
    });
  },
);
