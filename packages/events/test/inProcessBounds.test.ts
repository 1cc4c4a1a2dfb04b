import { describe, expect, it } from 'vitest';
import { type Envelope, InProcessEventBus, MemoryProcessedEventStore } from '../src/index.js';
import { DEFAULT_MAX_EVENTS, DEFAULT_REPLAY_EVENTS } from '../src/inProcessBus.js';
import { waitFor, workoutLogged } from './helpers.js';

const FAST = { subjects: ['workouts.>'], backoff: [20] };

async function publishMany(bus: InProcessEventBus, n: number): Promise<Envelope[]> {
  const events = Array.from({ length: n }, (_, i) => workoutLogged(i + 1));
  for (const event of events) await bus.publish(event);
  return events;
}

describe('InProcessEventBus memory bounds', () => {
  // maxEvents 3: at the limit, replay events give way to new ones (nothing is owed).
  it.each([10, 3])(
    'should keep only the newest replayEvents nobody owes, for consumers created later (maxEvents %i)',
    async (maxEvents) => {
      const bus = new InProcessEventBus({ replayEvents: 3, maxEvents });
      const events = await publishMany(bus, 8);
      expect(bus.size).toBe(3);
      const received: string[] = [];
      const late = await bus.consume('late', { ...FAST, handler: async (e) => void received.push(e.id) });
      await waitFor(() => received.length === 3);
      expect(received).toEqual(events.slice(-3).map((e) => e.id));
      await late.stop();
      await bus.close();
    },
  );

  it('should keep what a stopped durable consumer has not acknowledged, and let it go once acknowledged', async () => {
    const bus = new InProcessEventBus({ replayEvents: 2, maxEvents: 100 });
    const received: string[] = [];
    const handler = async (e: Envelope) => void received.push(e.id);
    const first = await bus.consume('durable', { ...FAST, handler });
    await publishMany(bus, 2);
    await waitFor(() => received.length === 2);
    await first.stop();
    const missed = await publishMany(bus, 20);
    expect(bus.size).toBe(20);
    expect(await bus.consumerState('durable')).toMatchObject({ pending: 20, ackPending: 0 });
    const resumed = await bus.consume('durable', { ...FAST, handler });
    await waitFor(() => received.length === 22);
    expect(received.slice(2)).toEqual(missed.map((e) => e.id));
    await waitFor(() => bus.size === 2);
    await resumed.stop();
    await bus.close();
  });

  it('should refuse publishes at maxEvents owed events, lose none, and take them again once acknowledged', async () => {
    const bus = new InProcessEventBus({ replayEvents: 2, maxEvents: 5 });
    const received: string[] = [];
    const handler = async (e: Envelope) => void received.push(e.id);
    await (await bus.consume('stopped', { ...FAST, handler })).stop();
    const kept = await publishMany(bus, 5);
    const refused = workoutLogged();
    await expect(bus.publish(refused)).rejects.toThrow(
      /not every durable consumer has acknowledged; retry later/,
    );
    expect((await bus.health()).detail).toMatch(/5 events in memory \(at most 5\); full/);
    const resumed = await bus.consume('stopped', { ...FAST, handler });
    await waitFor(() => received.length === 5);
    expect(received).toEqual(kept.map((e) => e.id));
    // The refused event was not remembered as seen: its retry is published, not dropped.
    expect(await bus.publish(refused)).toEqual({ duplicate: false });
    await waitFor(() => received.length === 6);
    expect(received[5]).toBe(refused.id);
    await resumed.stop();
    await bus.close();
  });

  it('should keep an event waiting for a retry, whatever the traffic after it', async () => {
    const bus = new InProcessEventBus({ replayEvents: 0, maxEvents: 3 });
    const poison = workoutLogged(1);
    let poisonDeliveries = 0;
    const subscription = await bus.consume('retrying', {
      subjects: ['workouts.>'],
      backoff: [100],
      handler: async (event) => {
        if (event.id === poison.id && ++poisonDeliveries === 1) throw new Error('not yet');
      },
    });
    await bus.publish(poison);
    await waitFor(() => poisonDeliveries === 1);
    await bus.publish(workoutLogged());
    await bus.publish(workoutLogged());
    await expect(bus.publish(workoutLogged())).rejects.toThrow(/retry later/);
    await waitFor(() => poisonDeliveries === 2 && bus.size === 0);
    expect(await bus.consumerState('retrying')).toMatchObject({ pending: 0, ackPending: 0 });
    await subscription.stop();
    await bus.close();
  });

  it('should stay bounded and lose nothing when the producer outruns the consumer', async () => {
    const bus = new InProcessEventBus();
    let acked = 0;
    const subscription = await bus.consume('steady', {
      ...FAST,
      handler: async () => {
        acked += 1;
      },
    });
    let largest = 0;
    // A producer faster than the consumer, retrying refused publishes as the outbox relay does.
    for (let i = 0; i < 25_000; i++) {
      const event = workoutLogged();
      for (;;) {
        try {
          await bus.publish(event);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      largest = Math.max(largest, bus.size);
    }
    await waitFor(() => acked === 25_000);
    expect(largest).toBeLessThanOrEqual(DEFAULT_MAX_EVENTS);
    expect(bus.size).toBe(DEFAULT_REPLAY_EVENTS);
    await subscription.stop();
    await bus.close();
  });

  it('should keep at most maxDeadLetters per consumer, the newest', async () => {
    const bus = new InProcessEventBus({ maxDeadLetters: 2 });
    const events = await publishMany(bus, 4);
    const subscription = await bus.consume('strict', {
      ...FAST,
      maxDeliver: 1,
      handler: async () => {
        throw new Error('cannot apply');
      },
    });
    await waitFor(() => subscription.stats().deadLettered === 4);
    expect((await bus.deadLetters('strict')).map((l) => l.eventId)).toEqual(
      events.slice(-2).map((e) => e.id),
    );
    await subscription.stop();
    await bus.close();
  });

  it('should refuse a negative or fractional bound', () => {
    expect(() => new InProcessEventBus({ maxEvents: 0 })).toThrow(/maxEvents must be an integer >= 1/);
    expect(() => new InProcessEventBus({ maxDeadLetters: 1.5 })).toThrow(/maxDeadLetters/);
  });
});

describe('MemoryProcessedEventStore bound', () => {
  it('should remember only the newest maxIds processed ids', async () => {
    const store = new MemoryProcessedEventStore(2);
    const applied: string[] = [];
    const process = (id: string) => store.processOnce('c', id, async () => void applied.push(id));
    for (const id of ['a', 'b', 'c']) expect(await process(id)).toBe('processed');
    expect(store.size).toBe(2);
    expect(await process('c')).toBe('duplicate');
    expect(await process('b')).toBe('duplicate');
    // Forgotten: only an id far older than any redelivery could be applied twice.
    expect(await process('a')).toBe('processed');
    expect(applied).toEqual(['a', 'b', 'c', 'a']);
  });
});
