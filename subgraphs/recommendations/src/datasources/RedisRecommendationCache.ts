import { closeRedis, pingRedis } from '@fitness/redis-kit';
import type { Redis } from 'ioredis';
import type { RecommendationRecord } from './models.js';
import {
  DEFAULT_CACHE_TTL_SECONDS,
  decodeRecommendations,
  encodeRecommendations,
  escapeGlob,
  type RecommendationCache,
  scanKeys,
  userKeyPattern,
  userOfKey,
} from './RecommendationCache.js';

export interface RedisRecommendationCacheOptions {
  /** @default 900 */
  ttlSeconds?: number;
  /** Prepended to every key; tests use it so that runs sharing a Redis never collide. @default '' */
  keyPrefix?: string;
}

/**
 * The Redis adapter: one string per key with a PX expiry, so Redis itself drops
 * stale advice and every replica sees the same entries. Errors are not swallowed
 * here: the data source decides that an outage degrades to computing uncached.
 */
export class RedisRecommendationCache implements RecommendationCache {
  private readonly ttlSeconds: number;
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisRecommendationCacheOptions = {},
  ) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS;
    this.keyPrefix = options.keyPrefix ?? '';
  }

  async get(key: string): Promise<RecommendationRecord[] | undefined> {
    const text = await this.redis.get(this.keyPrefix + key);
    return text === null ? undefined : decodeRecommendations(text);
  }

  async set(
    key: string,
    value: readonly RecommendationRecord[],
    ttlSeconds = this.ttlSeconds,
  ): Promise<void> {
    // Milliseconds so that sub-second TTLs (used by the contract tests) are honoured.
    const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
    await this.redis.set(this.keyPrefix + key, encodeRecommendations(value), 'PX', ttlMs);
  }

  /** SCAN for the user's keys: an erasure is rare, and the cache keeps no per-user index. */
  async deleteUser(userId: string): Promise<void> {
    await scanKeys(this.redis, escapeGlob(this.keyPrefix) + userKeyPattern(userId).glob, async (keys) => {
      await this.redis.del(...keys);
    });
  }

  async userIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    await scanKeys(this.redis, `${escapeGlob(this.keyPrefix)}recs:*`, async (keys) => {
      for (const key of keys) {
        const userId = userOfKey(key.slice(this.keyPrefix.length));
        if (userId !== undefined) ids.add(userId);
      }
    });
    return ids;
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}
