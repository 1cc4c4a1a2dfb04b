import type { CacheLookups } from '@fitness/server-kit';
import type { RecommendationCache } from './RecommendationCache.js';

/** The cache, its lookups counted as hits and misses (cache_lookups_total); a failed read counts as neither. */
export function countedCache(cache: RecommendationCache, lookups: CacheLookups): RecommendationCache {
  return {
    async get(key) {
      const value = await cache.get(key);
      if (value) lookups.hit();
      else lookups.miss();
      return value;
    },
    set: (key, value, ttlSeconds) => cache.set(key, value, ttlSeconds),
    deleteUser: (userId) => cache.deleteUser(userId),
    userIds: () => cache.userIds(),
    ping: () => cache.ping(),
    close: () => cache.close(),
  };
}
