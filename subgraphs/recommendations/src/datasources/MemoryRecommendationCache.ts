import type { RecommendationRecord } from './models.js';
import {
  DEFAULT_CACHE_TTL_SECONDS,
  decodeRecommendations,
  encodeRecommendations,
  type RecommendationCache,
  userKeyPattern,
  userOfKey,
} from './RecommendationCache.js';

export interface MemoryRecommendationCacheOptions {
  /** @default 900 */
  ttlSeconds?: number;
  /** Entries kept before the least recently used is evicted. @default 10_000 */
  maxEntries?: number;
  /** Milliseconds since the epoch; injectable for tests. @default Date.now */
  now?: () => number;
}

/**
 * The in-process adapter, for single-instance mode (REDIS_URL unset): nothing is
 * shared between replicas and everything is lost on restart, which for a cache
 * only costs recomputation. Bounded, so a long-running process cannot grow without
 * limit. Values are stored encoded, exactly as in Redis, so callers can never
 * mutate a cached entry through a returned object.
 */
export class MemoryRecommendationCache implements RecommendationCache {
  /** Map iteration order is insertion order: the first key is the least recently used. */
  private readonly entries = new Map<string, { text: string; expiresAt: number }>();
  private readonly ttlSeconds: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryRecommendationCacheOptions = {}) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Entries held, expired ones included until they are touched or evicted. */
  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<RecommendationRecord[] | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return decodeRecommendations(entry.text);
  }

  async set(
    key: string,
    value: readonly RecommendationRecord[],
    ttlSeconds = this.ttlSeconds,
  ): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { text: encodeRecommendations(value), expiresAt: this.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  async deleteUser(userId: string): Promise<void> {
    const { matches } = userKeyPattern(userId);
    for (const key of this.entries.keys()) if (matches(key)) this.entries.delete(key);
  }

  async userIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const [key, entry] of this.entries) {
      const userId = userOfKey(key);
      if (userId !== undefined && entry.expiresAt > this.now()) ids.add(userId);
    }
    return ids;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
