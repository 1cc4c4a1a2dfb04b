import { randomBytes, randomUUID } from 'node:crypto';
import { type EventBus, type EventOf, NatsEventBus, OutboxRelay, type Subscription } from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, createTestDatabase, realService } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { exportWorkoutEvents } from '../src/events/export.js';
import { createWorkoutsServer } from '../src/server.js';
import { openStores, type WorkoutsStores } from '../src/stores.js';

const logger = createLogger('workouts-events-test', 'silent');

const postgresUrl = realService('postgres', 'workouts events end to end');
const natsUrl = realService('nats', 'workouts events end to end');

const LOG = 'mutation ($input: LogWorkoutInput!) { logWorkout(input: $input) { id volumeKg } }';
const DELETE = 'mutation ($id: ID!) { deleteWorkout(id: $id) }';

type WorkoutEvent = EventOf<'workouts.logged'> | EventOf<'workouts.deleted'>;

/** Resolves when `check` holds; fails (rather than hangs) after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// The production wiring of src/index.ts on real servers: the workouts store on
// PostgreSQL (migrations included), the outbox relay woken by LISTEN/NOTIFY, and
// NATS JetStream, read by a durable consumer like the read models will be.
describe.skipIf(!postgresUrl || !natsUrl)('workouts events end to end (PostgreSQL + NATS JetStream)', () => {
  let db: { url: string; drop(): Promise<void> };
  let stores: WorkoutsStores;
  let bus: EventBus;
  let relay: OutboxRelay;
  let subscription: Subscription;
  const received: WorkoutEvent[] = [];
  const server = createWorkoutsServer(logger);

  beforeAll(async () => {
    db = await createTestDatabase(postgresUrl!);
    const config = loadConfig({ WORKOUTS_DATABASE_URL: db.url, NATS_URL: natsUrl! });
    stores = await openStores(config, logger);
    // A namespace of its own, so runs sharing the NATS server never see each other's events.
    bus = await NatsEventBus.connect({
      url: config.natsUrl!,
      logger,
      namespace: `workoutse2e${randomBytes(4).toString('hex')}`,
    });
    relay = new OutboxRelay({ pool: stores.pool, bus, logger, listenUrl: stores.url });
    await relay.start();
    subscription = await bus.consume('workouts-e2e', {
      subjects: ['workouts.>'],
      handler: async (event) => void received.push(event as WorkoutEvent),
    });
    await server.start();
  });

  afterAll(async () => {
    // The order of src/index.ts on SIGTERM: relay, consumers, bus, stores.
    await server.stop();
    await relay?.stop();
    await subscription?.stop();
    await bus?.close();
    await stores?.close();
    await db?.drop();
  });

  const run = async (query: string, variables: Record<string, unknown>, userId: string) =>
    assertSingleResult(
      (
        await server.executeOperation(
          { query, variables },
          { contextValue: createContext({ userId, region: 'US' }, stores.store, logger) },
        )
      ).body,
    );

  const eventsOf = (workoutId: string) => received.filter((e) => e.payload.workoutId === workoutId);

  /** Everything written so far has reached the broker and come back to the consumer. */
  const settled = async () => {
    await waitFor(async () => (await relay.backlog()) === 0, 'an empty outbox');
    await waitFor(async () => (await bus.consumerState('workouts-e2e'))?.pending === 0, 'no pending events');
    await waitFor(() => subscription.stats().inFlight === 0, 'handlers done');
  };

  const input = () => ({
    id: randomUUID(),
    sport: 'RUN',
    title: 'Tempo run',
    startedAt: new Date(Date.now() - 60 * 60 * 1000).toISOString(),
    durationSec: 2400,
    distanceM: 8000,
    calories: 610,
    sets: [{ exerciseId: 'barbell-back-squat', reps: 5, weightKg: 60 }],
  });

  it('should deliver exactly one workouts.logged v2 event, the v1 totals and the sets, for a logged workout', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const workout = input();
    const result = await run(LOG, { input: workout }, userId);
    expect(result.errors).toBeUndefined();
    await waitFor(() => eventsOf(workout.id).length === 1, 'the workouts.logged event');
    await settled();
    const [event] = eventsOf(workout.id);
    expect(event).toMatchObject({ type: 'workouts.logged', version: 2, producer: 'workouts' });
    expect(event!.payload).toEqual({
      workoutId: workout.id,
      userId,
      region: 'US',
      startedAt: workout.startedAt,
      sport: 'RUN',
      durationSec: 2400,
      volumeKg: 300,
      distanceM: 8000,
      calories: 610,
      sets: [
        {
          exerciseId: 'barbell-back-squat',
          muscleGroup: 'LEGS',
          reps: 5,
          weightKg: 60,
          durationSec: null,
          distanceM: null,
        },
      ],
    });
  });

  it('should deliver no second event for a retried logWorkout', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const workout = input();
    const results = await Promise.all([
      run(LOG, { input: workout }, userId),
      run(LOG, { input: workout }, userId),
    ]);
    const retry = await run(LOG, { input: workout }, userId);
    for (const result of [...results, retry]) expect(result.errors).toBeUndefined();
    await waitFor(() => eventsOf(workout.id).length >= 1, 'the workouts.logged event');
    await settled();
    expect(eventsOf(workout.id).map((e) => e.type)).toEqual(['workouts.logged']);
  });

  it('should deliver one workouts.deleted event with the totals that were logged', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const workout = input();
    await run(LOG, { input: workout }, userId);
    const deleted = await run(DELETE, { id: workout.id }, userId);
    expect(deleted.data?.deleteWorkout).toBe(true);
    // Deleting again finds nothing and writes nothing.
    expect((await run(DELETE, { id: workout.id }, userId)).data?.deleteWorkout).toBe(false);
    await waitFor(() => eventsOf(workout.id).length === 2, 'the logged and deleted events');
    await settled();
    const [logged, removed] = eventsOf(workout.id);
    expect(logged!.type).toBe('workouts.logged');
    expect(removed!.type).toBe('workouts.deleted');
    expect(removed!.payload).toEqual(logged!.payload);
    expect(new Set(received.map((e) => e.id)).size).toBe(received.length);
  });

  it('should export every stored workout as the workouts.logged v2 event it emitted, deleted ones left out', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const kept = input();
    const gone = input();
    await run(LOG, { input: kept }, userId);
    await run(LOG, { input: gone }, userId);
    await run(DELETE, { id: gone.id }, userId);
    await waitFor(() => eventsOf(kept.id).length === 1 && eventsOf(gone.id).length === 2, 'the events');
    // Pages of two, so the keyset pagination is crossed several times.
    const exported = [];
    for await (const event of exportWorkoutEvents(stores.pool, 2)) exported.push(event);
    const { rows } = await stores.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workouts');
    expect(exported).toHaveLength(rows[0]!.n);
    const mine = exported.filter((e) => (e.payload as { userId: string }).userId === userId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ type: 'workouts.logged', version: 2, producer: 'workouts' });
    expect(mine[0]!.payload).toEqual(eventsOf(kept.id)[0]!.payload);
  });
});
