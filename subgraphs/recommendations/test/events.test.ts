import { randomBytes, randomUUID } from 'node:crypto';
import {
  createEnvelope,
  type Envelope,
  type EventBus,
  type IdempotentConsumer,
  NatsEventBus,
} from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, realService, uniquePrefix } from '@fitness/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { RedisRecommendationCache } from '../src/datasources/RedisRecommendationCache.js';
import { Advisor } from '../src/engine/advisor.js';
import { startFeatureConsumer } from '../src/features/consumer.js';
import type { TrainingChange } from '../src/features/model.js';
import { RedisFeatureStore } from '../src/features/RedisFeatureStore.js';
import { rebuildFeatures } from '../src/features/rebuild.js';
import { createRecommendationsServer } from '../src/server.js';
import { daysAgo, deletedOf, logged, sets } from './featureHelpers.js';

const logger = createLogger('recommendations-events-test', 'silent');
const redisUrl = realService('redis', 'recommendations fed by events');
const natsUrl = realService('nats', 'recommendations fed by events');

const QUERY = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on User { recommendations(first: 20) { id kind title reason score exercise { id } generatedAt } }
  }
}`;

interface Rec {
  id: string;
  kind: string;
  reason: string;
  exercise: { id: string } | null;
  generatedAt: string;
}

/** The envelope workouts' relay would publish for a change. */
const envelopeOf = (c: TrainingChange, id = c.eventId): Envelope =>
  createEnvelope(
    c.kind === 'logged' ? 'workouts.logged' : 'workouts.deleted',
    2,
    {
      workoutId: c.workoutId,
      userId: c.userId,
      region: 'EU',
      startedAt: c.startedAt.toISOString(),
      sport: 'STRENGTH',
      durationSec: 3600,
      volumeKg: 0,
      distanceM: 0,
      calories: 0,
      sets: c.sets ?? [],
    },
    { producer: 'workouts', id },
  );

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// The wiring of src/index.ts on real servers: NATS JetStream carrying workouts'
// v2 events to the durable consumer, the read model and the stored advice in Redis.
describe.skipIf(!redisUrl || !natsUrl)(
  'recommendations fed by workout events (Redis + NATS JetStream)',
  () => {
    const prefix = uniquePrefix('recs-events');
    const server = createRecommendationsServer(logger);
    let bus: EventBus;
    let redis: Redis;
    let features: RedisFeatureStore;
    let cache: RedisRecommendationCache;
    let advisor: Advisor;
    let consumer: IdempotentConsumer;
    const published: Envelope[] = [];

    beforeAll(async () => {
      bus = await NatsEventBus.connect({
        url: natsUrl!,
        logger,
        namespace: `recse2e${randomBytes(4).toString('hex')}`,
      });
      redis = new Redis(redisUrl!, { maxRetriesPerRequest: 1 });
      features = new RedisFeatureStore(redis, { keyPrefix: prefix });
      // A 15-minute TTL: every refresh seen below comes from an event, none from expiry.
      cache = new RedisRecommendationCache(new Redis(redisUrl!), { keyPrefix: prefix, ttlSeconds: 900 });
      advisor = new Advisor({ features, cache, logger });
      consumer = await startFeatureConsumer({
        bus,
        store: features,
        logger,
        onApplied: async (userId) => void (await advisor.refresh(userId)),
      });
      await server.start();
    });

    afterAll(async () => {
      await server.stop();
      await consumer?.stop();
      await bus?.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await cache?.close();
      await features?.close();
    });

    const publish = async (...changes: TrainingChange[]) => {
      for (const c of changes) {
        const e = envelopeOf(c);
        published.push(e);
        await bus.publish(e);
      }
    };

    const recommendations = async (userId: string) => {
      const result = assertSingleResult<{ _entities: { recommendations: Rec[] | null }[] }>(
        (
          await server.executeOperation(
            // A bare key: the advice must come from the events, not from the representation.
            { query: QUERY, variables: { reps: [{ __typename: 'User', id: userId }] } },
            { contextValue: createContext({ userId, region: null }, cache, logger, { advisor }) },
          )
        ).body,
      );
      expect(result.errors).toBeUndefined();
      return result.data!._entities[0]!.recommendations;
    };

    const settled = () =>
      waitFor(
        async () =>
          (await bus.consumerState('recommendations'))?.pending === 0 &&
          consumer.subscription.stats().inFlight === 0,
        Boolean,
        'the consumer to catch up',
      );

    const bench = (userId: string, day: number, weight: number) =>
      logged(userId, daysAgo(day), sets('barbell-bench-press', weight, 8, 8, 8));

    it('should advise PROGRESSIVE_OVERLOAD after four sessions of one exercise at one load with every rep done', async () => {
      const userId = `u-${randomUUID().slice(0, 8)}`;
      await publish(...[7, 5, 3, 1].map((d) => bench(userId, d, 60)));
      const recs = await waitFor(
        () => recommendations(userId),
        (r) => r?.some((a) => a.kind === 'PROGRESSIVE_OVERLOAD') ?? false,
        'overload advice',
      );
      expect(recs!.find((a) => a.kind === 'PROGRESSIVE_OVERLOAD')).toMatchObject({
        id: 'PROGRESSIVE_OVERLOAD:barbell-bench-press',
        exercise: { id: 'barbell-bench-press' },
        reason: expect.stringContaining('Try 62.5 kg next time (+2.5 kg)'),
      });
    });

    it('should name in TRY_EXERCISE an exercise the user has not done', async () => {
      const peers = Array.from({ length: 6 }, () => `p-${randomUUID().slice(0, 8)}`);
      await publish(
        ...peers.map((p) =>
          logged(p, daysAgo(2), [
            ...sets('barbell-bench-press', 60, 8),
            ...sets('incline-dumbbell-press', 24, 10),
          ]),
        ),
      );
      const userId = `u-${randomUUID().slice(0, 8)}`;
      await settled();
      await publish(bench(userId, 1, 50));
      const recs = await waitFor(
        () => recommendations(userId),
        (r) => r?.some((a) => a.kind === 'TRY_EXERCISE') ?? false,
        'TRY_EXERCISE advice',
      );
      const tries = recs!.filter((a) => a.kind === 'TRY_EXERCISE');
      expect(tries[0]!.exercise).toEqual({ id: 'incline-dumbbell-press' });
      for (const t of tries) expect(t.exercise!.id).not.toBe('barbell-bench-press');
    });

    it('should refresh the stored advice within seconds of a new workout, without waiting for its TTL', async () => {
      const userId = `u-${randomUUID().slice(0, 8)}`;
      await publish(...[7, 5, 3, 1].map((d) => bench(userId, d, 60)));
      const before = await waitFor(
        () => recommendations(userId),
        (r) => r?.some((a) => a.kind === 'PROGRESSIVE_OVERLOAD') ?? false,
        'overload advice',
      );
      // Served from the store: asking again computes nothing new.
      expect(await recommendations(userId)).toEqual(before);
      await publish(logged(userId, new Date(), sets('barbell-bench-press', 62.5, 8, 8, 8)));
      const after = await waitFor(
        () => recommendations(userId),
        (r) => !(r?.some((a) => a.kind === 'PROGRESSIVE_OVERLOAD') ?? true),
        // Far inside the 15-minute TTL: only the event can have refreshed it.
        'the advice to follow the new workout',
        5_000,
      );
      expect(Date.parse(after![0]!.generatedAt)).toBeGreaterThan(Date.parse(before![0]!.generatedAt));
    });

    it('should be idempotent under replays and repeated deletions, and equal a rebuild from the surviving workouts', async () => {
      const userId = `u-${randomUUID().slice(0, 8)}`;
      const kept = [7, 5, 3, 1].map((d) => bench(userId, d, 60));
      const gone = logged(userId, daysAgo(2), sets('deadlift', 140, 5, 5));
      await publish(...kept, gone, deletedOf(gone));
      await settled();
      const once = { features: await features.features(userId), done: await features.exercisesOf(userId) };
      const model = await features.model();
      // Replays: the same events again (past the broker's window, as after a relay crash)
      // and the same facts under new event ids; the deletion twice more.
      const deliveredAgain = published.filter((e) => (e.payload as { userId: string }).userId === userId);
      for (const e of deliveredAgain) await bus.publish({ ...e, id: randomUUID() });
      await publish(deletedOf(gone), deletedOf(gone));
      await settled();
      expect({ features: await features.features(userId), done: await features.exercisesOf(userId) }).toEqual(
        once,
      );
      expect(await features.model()).toEqual(model);
      expect(once.done).toEqual(new Set(['barbell-bench-press']));

      // Rebuild: everything that survived, as workouts' export prints it, into a fresh store.
      const rebuilt = new RedisFeatureStore(new Redis(redisUrl!), { keyPrefix: `${prefix}rebuilt:` });
      const surviving = published.filter(
        (e) =>
          e.type === 'workouts.logged' &&
          !published.some(
            (d) =>
              d.type === 'workouts.deleted' &&
              (d.payload as { workoutId: string }).workoutId ===
                (e.payload as { workoutId: string }).workoutId,
          ),
      );
      const result = await rebuildFeatures(
        rebuilt,
        surviving.map((e) => JSON.stringify(e)),
      );
      expect(result.events).toBe(surviving.length);
      const users = new Set(surviving.map((e) => (e.payload as { userId: string }).userId));
      for (const u of users) {
        expect(await rebuilt.features(u)).toEqual(await features.features(u));
        expect(await rebuilt.exercisesOf(u)).toEqual(await features.exercisesOf(u));
      }
      expect(await rebuilt.model()).toEqual(await features.model());
      await rebuilt.clear();
      await rebuilt.close();
    });
  },
);
