import { randomUUID } from 'node:crypto';
import { createEnvelope, type EventOf, InProcessEventBus } from '@fitness/events';
import { afterAll, describe, expect, it } from 'vitest';
import { currentBoard } from '../../src/leaderboards/boards.js';
import { startLeaderboardConsumer } from '../../src/leaderboards/consumer.js';
import type { WorkoutChange } from '../../src/leaderboards/model.js';
import { change, engines, logger, until } from './helpers.js';

const envelope = (c: WorkoutChange, id = randomUUID()) =>
  createEnvelope(
    c.kind === 'logged' ? 'workouts.logged' : 'workouts.deleted',
    1,
    {
      workoutId: c.workoutId,
      userId: c.userId,
      region: c.region,
      startedAt: c.startedAt.toISOString(),
      sport: 'STRENGTH',
      durationSec: c.durationSec,
      volumeKg: c.volumeKg,
      distanceM: c.distanceM,
      calories: c.calories,
    },
    { producer: 'workouts', id },
  ) as EventOf<'workouts.logged', 1>;

const week = currentBoard({ metric: 'VOLUME_KG', period: 'WEEK', region: null }, new Date());

describe.each(engines())('leaderboard consumer on $name', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function setup() {
    const { store, notices } = engine.open();
    // A short duplicate window lets the test re-publish an id the broker has forgotten.
    const bus = new InProcessEventBus({ duplicateWindowMs: 1 });
    const noticed: string[][] = [];
    await notices.listen((ids) => noticed.push(ids));
    const consumer = await startLeaderboardConsumer({ bus, store, notices, logger, concurrency: 4 });
    cleanups.push(async () => {
      await consumer.stop();
      await bus.close();
      await notices.close();
      await store.close();
    });
    return { store, bus, consumer, noticed };
  }

  const settled = (consumer: { metrics(): Promise<{ processed: number; duplicates: number }> }, n: number) =>
    until(
      () => consumer.metrics(),
      (m) => m.processed + m.duplicates >= n,
    );

  it('should count an event delivered twice once, and subtract a deletion', async () => {
    const { store, bus, consumer, noticed } = await setup();
    const ann = change({ userId: 'ann', volumeKg: 400 });
    const bob = change({ userId: 'bob', volumeKg: 300 });
    const logged = envelope(ann);
    await bus.publish(logged);
    await new Promise((r) => setTimeout(r, 5));
    await bus.publish(logged); // past the broker's window: delivered again
    await bus.publish(envelope(bob));
    await settled(consumer, 3);
    expect((await consumer.metrics()).duplicates).toBe(1);
    expect((await store.top(week, 10)).entries).toEqual([
      { userId: 'ann', score: 400 },
      { userId: 'bob', score: 300 },
    ]);
    await bus.publish(envelope({ ...ann, kind: 'deleted' }));
    await settled(consumer, 4);
    expect((await store.top(week, 10)).entries).toEqual([{ userId: 'bob', score: 300 }]);
    await until(
      () => noticed.length,
      (n) => n >= 3,
    );
    expect(noticed[0]).toContain(`VOLUME_KG:WEEK:${week.periodStart!.toISOString().slice(0, 10)}:ALL`);
  });

  it('should end right under shuffled, duplicated, concurrent delivery', async () => {
    const { store, bus, consumer } = await setup();
    const workouts = Array.from({ length: 30 }, (_, i) =>
      change({ userId: `user-${i % 5}`, volumeKg: 10 + i, region: i % 2 ? 'EU' : 'US' }),
    );
    const deleted = workouts.filter((_, i) => i % 3 === 0);
    const events = [
      ...workouts.map((w) => envelope(w)),
      ...deleted.map((w) => envelope({ ...w, kind: 'deleted' })),
    ];
    const deliveries = [...events, ...events.slice(0, 10)].sort(() => Math.random() - 0.5);
    for (const e of deliveries) {
      await bus.publish(e);
      await new Promise((r) => setTimeout(r, 2));
    }
    await settled(consumer, deliveries.length);
    const expected = new Map<string, number>();
    for (const w of workouts)
      if (!deleted.includes(w)) expected.set(w.userId, (expected.get(w.userId) ?? 0) + w.volumeKg);
    const top = await store.top(week, 10);
    expect(new Map(top.entries.map((e) => [e.userId, e.score]))).toEqual(expected);
  });

  it('should read v2 events (totals and sets) as it reads v1, mixed in any order', async () => {
    const { store, bus, consumer } = await setup();
    const ann = change({ userId: 'ann', volumeKg: 500 });
    const bob = change({ userId: 'bob', volumeKg: 200 });
    const v2 = (c: WorkoutChange) => {
      const v1 = envelope(c);
      return createEnvelope(
        v1.type,
        2,
        {
          ...v1.payload,
          sets: [
            {
              exerciseId: 'deadlift',
              muscleGroup: 'FULL_BODY',
              reps: 5,
              weightKg: 100,
              durationSec: null,
              distanceM: null,
            },
          ],
        },
        { producer: 'workouts' },
      );
    };
    // Logged as v1 (an outbox row from before the upgrade), deleted as v2, and the other way round.
    await bus.publish(envelope(ann));
    await bus.publish(v2(bob));
    await bus.publish(v2({ ...ann, kind: 'deleted' }));
    await settled(consumer, 3);
    expect((await consumer.metrics()).failures).toBe(0);
    expect((await store.top(week, 10)).entries).toEqual([{ userId: 'bob', score: 200 }]);
  });
});
