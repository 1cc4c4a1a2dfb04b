import { createLogger } from '@fitness/server-kit';
import { realService, uniquePrefix } from '@fitness/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRecommendationCache } from '../src/datasources/MemoryRecommendationCache.js';
import type { RecommendationRecord } from '../src/datasources/models.js';
import {
  cacheKey,
  decodeRecommendations,
  type RecommendationCache,
} from '../src/datasources/RecommendationCache.js';
import { RedisRecommendationCache } from '../src/datasources/RedisRecommendationCache.js';
import { toSnapshot } from '../src/engine/rules.js';
import { createRedisClient } from '../src/stores.js';
import { NOW, training } from './fixtures.js';

const logger = createLogger('recommendations-test', 'silent');

const records = (title = 'Train your chest'): RecommendationRecord[] => [
  {
    id: 'TRAIN_MUSCLE_GROUP:CHEST',
    kind: 'TRAIN_MUSCLE_GROUP',
    title,
    reason: 'Last trained 9 days ago.',
    score: 0.76,
    exercise: null,
    generatedAt: NOW,
  },
  {
    id: 'TRY_EXERCISE:ex-1',
    kind: 'TRY_EXERCISE',
    title: 'Try a new exercise',
    reason: 'Because.',
    score: 0.5,
    exercise: { id: 'ex-1' },
    generatedAt: new Date('2026-11-26T11:59:59.123Z'),
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface CacheAdapter {
  name: string;
  open(): Promise<RecommendationCache>;
}

const redisUrl = realService('redis', 'recommendation cache');
const prefix = uniquePrefix('recommendations');
const adapters: CacheAdapter[] = [{ name: 'memory', open: async () => new MemoryRecommendationCache() }];
if (redisUrl) {
  adapters.push({
    name: 'redis',
    async open() {
      const redis = createRedisClient(redisUrl, logger);
      await redis.connect();
      return new RedisRecommendationCache(redis, { keyPrefix: prefix });
    },
  });
}

/** Deletes every key this run wrote, so a shared Redis keeps no test data. */
async function cleanRedis() {
  if (!redisUrl) return;
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}

afterAll(cleanRedis);

describe.each(adapters)('RecommendationCache contract on $name', (adapter) => {
  let cache: RecommendationCache;
  const key = (label: string) => `recs:v1:user-${label}:${'0'.repeat(32)}`;

  beforeAll(async () => {
    cache = await adapter.open();
  });

  afterAll(async () => {
    await cache.close();
  });

  it('should answer undefined for a key never set', async () => {
    expect(await cache.get(key('missing'))).toBeUndefined();
  });

  it('should round-trip records with dates and exercise references intact', async () => {
    await cache.set(key('roundtrip'), records());
    const got = await cache.get(key('roundtrip'));
    expect(got).toEqual(records());
    expect(got?.[0]?.generatedAt).toBeInstanceOf(Date);
  });

  it('should round-trip an empty list as a hit, not a miss', async () => {
    await cache.set(key('empty'), []);
    expect(await cache.get(key('empty'))).toEqual([]);
  });

  it('should replace the value on a second set', async () => {
    await cache.set(key('replace'), records('first'));
    await cache.set(key('replace'), records('second'));
    expect((await cache.get(key('replace')))?.[0]?.title).toBe('second');
  });

  it('should delete every entry of a user, whatever its training or key version, and only theirs', async () => {
    await cache.set(`recs:v1:gone*:${'1'.repeat(32)}`, records('g1'));
    await cache.set(`recs:v1:gone*:${'2'.repeat(32)}`, records('g2'));
    await cache.set(`recs:v2:gone*:${'3'.repeat(32)}`, records('g3'));
    await cache.set(`recs:v1:gone*x:${'4'.repeat(32)}`, records('other'));
    await cache.set(key('stay'), records('stay'));
    expect([...(await cache.userIds())]).toEqual(expect.arrayContaining(['gone*', 'gone*x', 'user-stay']));
    await cache.deleteUser('gone*');
    expect([...(await cache.userIds())]).not.toContain('gone*');
    for (const digit of ['1', '2'])
      expect(await cache.get(`recs:v1:gone*:${digit.repeat(32)}`)).toBeUndefined();
    expect(await cache.get(`recs:v2:gone*:${'3'.repeat(32)}`)).toBeUndefined();
    expect((await cache.get(`recs:v1:gone*x:${'4'.repeat(32)}`))?.[0]?.title).toBe('other');
    expect((await cache.get(key('stay')))?.[0]?.title).toBe('stay');
    await cache.deleteUser('nobody');
  });

  it('should keep keys independent', async () => {
    await cache.set(key('a'), records('a'));
    await cache.set(key('b'), records('b'));
    expect((await cache.get(key('a')))?.[0]?.title).toBe('a');
    expect((await cache.get(key('b')))?.[0]?.title).toBe('b');
  });

  it('should forget a value once its TTL has passed', async () => {
    await cache.set(key('ttl'), records(), 0.2);
    expect(await cache.get(key('ttl'))).toBeDefined();
    await sleep(350);
    expect(await cache.get(key('ttl'))).toBeUndefined();
  });

  it('should not let a caller mutate a cached value through a returned one', async () => {
    await cache.set(key('mutate'), records());
    const first = await cache.get(key('mutate'));
    first![0]!.title = 'changed';
    expect((await cache.get(key('mutate')))?.[0]?.title).toBe('Train your chest');
  });

  it('should answer ping', async () => {
    expect(await cache.ping()).toBe(true);
  });
});

describe('MemoryRecommendationCache', () => {
  it('should respect the default TTL on an injected clock', async () => {
    let now = 0;
    const cache = new MemoryRecommendationCache({ ttlSeconds: 900, now: () => now });
    await cache.set('k', records());
    now = 899_999;
    expect(await cache.get('k')).toBeDefined();
    now = 900_000;
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('should evict the least recently used entry beyond maxEntries', async () => {
    const cache = new MemoryRecommendationCache({ maxEntries: 2 });
    await cache.set('a', records('a'));
    await cache.set('b', records('b'));
    await cache.get('a'); // a is now more recent than b
    await cache.set('c', records('c'));
    expect(cache.size).toBe(2);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBeDefined();
    expect(await cache.get('c')).toBeDefined();
  });

  it('should be bounded to 10,000 entries by default', async () => {
    const cache = new MemoryRecommendationCache();
    for (let i = 0; i < 10_050; i++) await cache.set(`k${i}`, []);
    expect(cache.size).toBe(10_000);
    expect(await cache.get('k0')).toBeUndefined();
    expect(await cache.get('k10049')).toEqual([]);
  });
});

describe.skipIf(!redisUrl)('RedisRecommendationCache on a real Redis', () => {
  let redis: Redis;
  let cache: RedisRecommendationCache;

  beforeAll(async () => {
    redis = new Redis(redisUrl!);
    // The client is lazy and has no offline queue: connect before the first command.
    const client = createRedisClient(redisUrl!, logger);
    await client.connect();
    cache = new RedisRecommendationCache(client, { keyPrefix: prefix });
  });

  afterAll(async () => {
    await cache.close();
    await redis.quit();
  });

  it('should store JSON with ISO dates under the prefixed key, expiring after 900 s by default', async () => {
    const key = cacheKey('u-json', toSnapshot(training({ LEGS: { sets: 3, hoursAgo: 5 } })));
    await cache.set(key, records());
    const raw = await redis.get(prefix + key);
    expect(JSON.parse(raw!)[0].generatedAt).toBe('2026-11-26T12:00:00.000Z');
    const ttl = await redis.pttl(prefix + key);
    expect(ttl).toBeGreaterThan(895_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
  });

  it('should honour a configured TTL', async () => {
    const short = new RedisRecommendationCache(redis, { keyPrefix: prefix, ttlSeconds: 60 });
    await short.set('configured', []);
    expect(await redis.pttl(`${prefix}configured`)).toBeLessThanOrEqual(60_000);
  });

  it('should refuse a corrupt entry rather than serve it', async () => {
    await redis.set(`${prefix}corrupt`, '{"not":"a list"}', 'EX', 60);
    await expect(cache.get('corrupt')).rejects.toThrow(/not an array/);
  });

  it('should report ping false when Redis is unreachable', async () => {
    const lost = new RedisRecommendationCache(createRedisClient('redis://127.0.0.1:1', logger));
    expect(await lost.ping()).toBe(false);
    await lost.close();
  });
});

describe('cacheKey', () => {
  const snapshot = (input = training({ CHEST: { sets: 6, hoursAgo: 50 } })) => toSnapshot(input);

  it('should be recs:v1:<userId>:<digest>', () => {
    expect(cacheKey('user-1', snapshot())).toMatch(/^recs:v1:user-1:[0-9a-f]{32}$/);
  });

  it('should not depend on the order of the groups', () => {
    const input = training({ CHEST: { sets: 6, hoursAgo: 50 } });
    const reversed = { ...input, muscleGroups: [...input.muscleGroups].reverse() };
    expect(cacheKey('u', snapshot(reversed))).toBe(cacheKey('u', snapshot(input)));
  });

  it('should change when the training changes', () => {
    const base = cacheKey('u', snapshot());
    expect(cacheKey('u', snapshot(training({ CHEST: { sets: 7, hoursAgo: 50 } })))).not.toBe(base);
    expect(cacheKey('u', snapshot(training({ CHEST: { sets: 6, hoursAgo: 49 } })))).not.toBe(base);
    expect(cacheKey('other', snapshot())).not.toBe(base);
  });

  it('should ignore where in the day the window starts, so a since derived from the request time still hits', () => {
    const input = training({ CHEST: { sets: 6, hoursAgo: 50 } });
    const later = { ...input, since: new Date(new Date(input.since).getTime() + 60_000).toISOString() };
    expect(cacheKey('u', snapshot(later))).toBe(cacheKey('u', snapshot(input)));
  });

  it('should reject what the encoder never writes', () => {
    expect(() => decodeRecommendations('[{"id":1}]')).toThrow(/unexpected shape/);
  });
});
