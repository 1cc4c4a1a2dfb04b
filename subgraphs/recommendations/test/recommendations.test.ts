import { createServer } from 'node:net';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, realService, uniquePrefix } from '@fitness/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createContext } from '../src/context.js';
import { MemoryRecommendationCache } from '../src/datasources/MemoryRecommendationCache.js';
import type { RecentTrainingInput } from '../src/datasources/models.js';
import type { RecommendationCache } from '../src/datasources/RecommendationCache.js';
import { RedisRecommendationCache } from '../src/datasources/RedisRecommendationCache.js';
import { Advisor } from '../src/engine/advisor.js';
import { recommend } from '../src/engine/rules.js';
import { MemoryFeatureStore } from '../src/features/MemoryFeatureStore.js';
import { createRecommendationsServer } from '../src/server.js';
import { createRedisClient, openStores } from '../src/stores.js';
import { daysAgo, logged, sets } from './featureHelpers.js';
import { NOW, training } from './fixtures.js';

const logger = createLogger('recommendations-test', 'silent');

const ENTITIES = `query ($reps: [_Any!]!, $first: Int) {
  _entities(representations: $reps) {
    ... on User { id recommendations(first: $first) { id kind title reason score exercise { id } generatedAt } }
  }
}`;

interface Rec {
  id: string;
  kind: string;
  title: string;
  reason: string;
  score: number;
  exercise: { id: string } | null;
  generatedAt: string;
}
type EntitiesData = { _entities: ({ id: string; recommendations: Rec[] | null } | null)[] };

/** Chest 9 days ago, legs heavy 6 hours ago, the rest trained yesterday. */
const ownerTraining = () =>
  training({
    CHEST: { sets: 6, hoursAgo: 9 * 24 + 2 },
    BACK: { sets: 8, hoursAgo: 30 },
    SHOULDERS: { sets: 6, hoursAgo: 30 },
    ARMS: { sets: 6, hoursAgo: 30 },
    CORE: { sets: 4, hoursAgo: 30 },
    LEGS: { sets: 18, hoursAgo: 6 },
    GLUTES: { sets: 4, hoursAgo: 30 },
  });

const userRep = (id: string, recentTraining: RecentTrainingInput | null = ownerTraining()) => ({
  __typename: 'User',
  id,
  recentTraining,
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const redisUrl = realService('redis', 'recommendations operations on Redis');
const prefix = uniquePrefix('recommendations-ops');
const caches: { name: string; open(): Promise<RecommendationCache> }[] = [
  { name: 'memory', open: async () => new MemoryRecommendationCache() },
];
if (redisUrl) {
  caches.push({
    name: 'redis',
    async open() {
      const client = createRedisClient(redisUrl, logger);
      await client.connect();
      return new RedisRecommendationCache(client, { keyPrefix: prefix });
    },
  });
}

afterAll(async () => {
  if (!redisUrl) return;
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe.each(caches)('recommendations subgraph with the $name cache', (adapter) => {
  const server = createRecommendationsServer(logger);
  let cache: RecommendationCache;

  beforeAll(async () => {
    cache = await adapter.open();
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    await cache.close();
  });

  const run = async (
    query: string,
    variables: Record<string, unknown>,
    userId: string | null,
    engine: typeof recommend = recommend,
  ) =>
    assertSingleResult<EntitiesData>(
      (
        await server.executeOperation(
          { query, variables },
          {
            contextValue: createContext({ userId, region: null }, cache, logger, { now: () => NOW, engine }),
          },
        )
      ).body,
    );

  it('should give the owner scored advice, best first, from the training in the representation', async () => {
    const result = await run(ENTITIES, { reps: [userRep('u-owner')] }, 'u-owner');
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      {
        id: 'u-owner',
        recommendations: [
          {
            id: 'RECOVERY:LEGS',
            kind: 'RECOVERY',
            title: 'Let your legs recover',
            reason: expect.stringMatching(/^18 sets in the last 28 days, the last 6 hours ago\./),
            score: 0.76,
            exercise: null,
            generatedAt: '2026-11-26T12:00:00.000Z',
          },
          {
            id: 'TRAIN_MUSCLE_GROUP:CHEST',
            kind: 'TRAIN_MUSCLE_GROUP',
            title: 'Train your chest',
            reason: 'Last trained 9 days ago.',
            score: expect.any(Number),
            exercise: null,
            generatedAt: '2026-11-26T12:00:00.000Z',
          },
        ],
      },
    ]);
  });

  it('should welcome a user with no training', async () => {
    const result = await run(ENTITIES, { reps: [userRep('u-new', training({}))] }, 'u-new');
    expect(result.data?._entities[0]?.recommendations?.map((r) => r.id)).toEqual([
      'TRAIN_MUSCLE_GROUP:FULL_BODY',
    ]);
  });

  it('should return at most `first` items and default to 5', async () => {
    const rep = userRep('u-first', training({ LEGS: { sets: 2, hoursAgo: 30 } }));
    const two = await run(ENTITIES, { reps: [rep], first: 2 }, 'u-first');
    expect(two.data?._entities[0]?.recommendations).toHaveLength(2);
    const withoutFirst = ENTITIES.replace(', $first: Int', '').replace('(first: $first)', '');
    const byDefault = await run(withoutFirst, { reps: [rep] }, 'u-first');
    expect(byDefault.data?._entities[0]?.recommendations).toHaveLength(5);
  });

  it.each([0, 21, -1, null])('should refuse first: %s with BAD_USER_INPUT', async (first) => {
    const result = await run(ENTITIES, { reps: [userRep('u-bad')], first }, 'u-bad');
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.data?._entities).toEqual([{ id: 'u-bad', recommendations: null }]);
  });

  it('should answer FORBIDDEN and null to another user', async () => {
    const result = await run(ENTITIES, { reps: [userRep('u-owner')] }, 'u-other');
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    expect(result.data?._entities).toEqual([{ id: 'u-owner', recommendations: null }]);
  });

  it('should answer FORBIDDEN and null to an anonymous caller, like every self-only field', async () => {
    const result = await run(ENTITIES, { reps: [userRep('u-owner')] }, null);
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    expect(result.data?._entities).toEqual([{ id: 'u-owner', recommendations: null }]);
  });

  it('should return null without an error when workouts sent no training', async () => {
    const result = await run(
      ENTITIES,
      // null: workouts refused or failed; absent: a bare key-only representation.
      { reps: [userRep('u-none', null), { __typename: 'User', id: 'u-none' }] },
      'u-none',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: 'u-none', recommendations: null },
      { id: 'u-none', recommendations: null },
    ]);
  });

  it('should serve the second request for unchanged training from the cache', async () => {
    const engine = vi.fn(recommend);
    const rep = userRep('u-cached');
    const first = await run(ENTITIES, { reps: [rep] }, 'u-cached', engine);
    const second = await run(ENTITIES, { reps: [rep] }, 'u-cached', engine);
    expect(engine).toHaveBeenCalledTimes(1);
    expect(second.data).toEqual(first.data);
  });

  it('should compute new advice when the training changes', async () => {
    const engine = vi.fn(recommend);
    await run(ENTITIES, { reps: [userRep('u-changes')] }, 'u-changes', engine);
    const trainedChest = training({
      CHEST: { sets: 10, hoursAgo: 2 },
      BACK: { sets: 8, hoursAgo: 30 },
      SHOULDERS: { sets: 6, hoursAgo: 30 },
      ARMS: { sets: 6, hoursAgo: 30 },
      CORE: { sets: 4, hoursAgo: 30 },
      LEGS: { sets: 18, hoursAgo: 6 },
      GLUTES: { sets: 4, hoursAgo: 30 },
    });
    const after = await run(ENTITIES, { reps: [userRep('u-changes', trainedChest)] }, 'u-changes', engine);
    expect(engine).toHaveBeenCalledTimes(2);
    expect(after.data?._entities[0]?.recommendations?.map((r) => r.id)).toEqual(['RECOVERY:LEGS']);
  });

  it("should not serve one user's cached advice to another with the same training", async () => {
    const engine = vi.fn(recommend);
    await run(ENTITIES, { reps: [userRep('u-twin-a')] }, 'u-twin-a', engine);
    await run(ENTITIES, { reps: [userRep('u-twin-b')] }, 'u-twin-b', engine);
    expect(engine).toHaveBeenCalledTimes(2);
  });

  it('should expose its SDL through _service', async () => {
    const result = assertSingleResult<{ _service: { sdl: string } }>(
      (
        await server.executeOperation(
          { query: '{ _service { sdl } }' },
          { contextValue: createContext({ userId: null, region: null }, cache, logger) },
        )
      ).body,
    );
    const sdl = result.data!._service.sdl;
    expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
    expect(sdl).toContain('recommendations(first: Int = 5): [Recommendation!]');
    expect(sdl).toContain(
      '@requires(fields: "recentTraining { since muscleGroups { muscleGroup sets lastTrainedAt } }")',
    );
    expect(sdl).toMatch(/type Exercise\s+@key\(fields: "id", resolvable: false\)/);
  });
});

describe('recommendations with the event-fed read model', () => {
  const server = createRecommendationsServer(logger);
  const cache = new MemoryRecommendationCache();
  const features = new MemoryFeatureStore();
  const advisor = new Advisor({ features, cache, logger, now: () => NOW });

  beforeAll(async () => {
    await server.start();
    for (const d of [7, 5, 3, 1]) {
      await features.apply(logged('u-fed', daysAgo(d, NOW), sets('barbell-bench-press', 60, 8, 8, 8)), NOW);
    }
  });

  afterAll(async () => {
    await server.stop();
  });

  const run = async (reps: unknown[], userId: string) =>
    assertSingleResult<EntitiesData>(
      (
        await server.executeOperation(
          { query: ENTITIES, variables: { reps, first: 20 } },
          {
            contextValue: createContext({ userId, region: null }, cache, logger, { now: () => NOW, advisor }),
          },
        )
      ).body,
    );

  it('should answer from the read model when it knows the user, whatever the representation says', async () => {
    const result = await run([userRep('u-fed', training({}))], 'u-fed');
    expect(result.errors).toBeUndefined();
    const kinds = result.data?._entities[0]?.recommendations?.map((r) => r.kind);
    expect(kinds).toContain('PROGRESSIVE_OVERLOAD');
    expect(kinds).not.toContain('RECOVERY');
  });

  it('should fall back to the rules on recentTraining for a user the read model does not know', async () => {
    const result = await run([userRep('u-unfed')], 'u-unfed');
    expect(result.data?._entities[0]?.recommendations?.map((r) => r.id)).toEqual([
      'RECOVERY:LEGS',
      'TRAIN_MUSCLE_GROUP:CHEST',
    ]);
    const bare = await run([{ __typename: 'User', id: 'u-unfed' }], 'u-unfed');
    expect(bare.data?._entities).toEqual([{ id: 'u-unfed', recommendations: null }]);
  });
});

describe('recommendations while Redis is down', () => {
  const server = createRecommendationsServer(logger);
  let cache: RedisRecommendationCache;

  beforeAll(async () => {
    const client = createRedisClient(`redis://127.0.0.1:${await closedPort()}`, logger);
    await client.connect().catch(() => undefined);
    cache = new RedisRecommendationCache(client);
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    await cache.close();
  });

  it('should still answer, computing without cache, and log a warning', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const started = Date.now();
    const result = assertSingleResult<EntitiesData>(
      (
        await server.executeOperation(
          { query: ENTITIES, variables: { reps: [userRep('u-down')] } },
          {
            contextValue: createContext({ userId: 'u-down', region: null }, cache, logger, {
              now: () => NOW,
            }),
          },
        )
      ).body,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities[0]?.recommendations?.map((r) => r.id)).toEqual([
      'RECOVERY:LEGS',
      'TRAIN_MUSCLE_GROUP:CHEST',
    ]);
    // No offline queue: an outage costs no waiting.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(warn).toHaveBeenCalledWith(expect.anything(), expect.stringContaining('cache read failed'));
    expect(warn).toHaveBeenCalledWith(expect.anything(), expect.stringContaining('cache write failed'));
    expect(await cache.ping()).toBe(false);
    warn.mockRestore();
  });
});

describe('openStores', () => {
  it('should fall back to the in-process cache with a warning when REDIS_URL is unset', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const stores = await openStores({ redisUrl: undefined, cacheTtlSeconds: 900 }, logger);
    expect(stores.cache).toBeInstanceOf(MemoryRecommendationCache);
    expect(await stores.ready()).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('REDIS_URL is unset'));
    warn.mockRestore();
    await stores.close();
  });

  it('should start with Redis down and report not ready', async () => {
    const stores = await openStores(
      { redisUrl: `redis://127.0.0.1:${await closedPort()}`, cacheTtlSeconds: 900 },
      logger,
    );
    expect(stores.cache).toBeInstanceOf(RedisRecommendationCache);
    expect(await stores.ready()).toBe(false);
    await stores.close();
  });

  it.skipIf(!redisUrl)('should be ready on a real Redis', async () => {
    const stores = await openStores({ redisUrl, cacheTtlSeconds: 900 }, logger);
    expect(await stores.ready()).toBe(true);
    await stores.close();
  });
});
