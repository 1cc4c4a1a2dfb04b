import { createRedisClient as createSharedRedisClient, observeRedis } from '@fitness/redis-kit';
import type { Logger, ServiceMetrics } from '@fitness/server-kit';
import type { Redis } from 'ioredis';
import { countedCache } from './datasources/countedCache.js';
import { MemoryRecommendationCache } from './datasources/MemoryRecommendationCache.js';
import type { RecommendationCache } from './datasources/RecommendationCache.js';
import { RedisRecommendationCache } from './datasources/RedisRecommendationCache.js';
import type { FeatureStore } from './features/FeatureStore.js';
import { MemoryFeatureStore } from './features/MemoryFeatureStore.js';
import { RedisFeatureStore } from './features/RedisFeatureStore.js';

export interface RecommendationsStores {
  cache: RecommendationCache;
  /** The training read model the event consumer keeps (features and co-occurrence). */
  features: FeatureStore;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * An ioredis client tuned for a cache that must never slow a request down: no
 * offline queue and one attempt per command, so during an outage a command fails
 * at once and the advice is computed uncached; reconnection carries on in the
 * background with capped backoff. State changes are logged once, not per retry.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  return createSharedRedisClient(url, logger, { whenDown: 'serving recommendations without cache' });
}

/**
 * Redis when REDIS_URL is set, else the in-process cache. Start-up does not wait
 * for Redis: the field works without it, and /ready reports whether it answers.
 * With `metrics`, the cache's lookups are counted there (cache `recommendations`),
 * and the Redis clients reported (stores `recommendation_cache`, `recommendation_features`).
 */
export async function openStores(
  config: { redisUrl: string | undefined; cacheTtlSeconds: number },
  logger: Logger,
  metrics?: ServiceMetrics,
): Promise<RecommendationsStores> {
  const counted = (cache: RecommendationCache) =>
    metrics ? countedCache(cache, metrics.cache('recommendations')) : cache;
  if (!config.redisUrl) {
    logger.warn(
      'REDIS_URL is unset: caching recommendations in process (single-instance mode, not shared between replicas)',
    );
    const cache = counted(new MemoryRecommendationCache({ ttlSeconds: config.cacheTtlSeconds }));
    const features = new MemoryFeatureStore();
    return { cache, features, ready: () => cache.ping(), close: () => cache.close() };
  }
  const redis = createRedisClient(config.redisUrl, logger);
  observeRedis(metrics, 'recommendation_cache', redis);
  // A failed first attempt is already logged by the error listener; retries go on.
  await redis.connect().catch(() => undefined);
  const cache = counted(new RedisRecommendationCache(redis, { ttlSeconds: config.cacheTtlSeconds }));
  // A client of its own: the consumer's applies may wait out a blip (the bus
  // redelivers a failed one anyway), while the cache must fail at once.
  const featureRedis = createSharedRedisClient(config.redisUrl, logger, {
    whenDown: 'recommendation features are not updated (events are retried)',
    commandTimeoutMs: 2_000,
  });
  observeRedis(metrics, 'recommendation_features', featureRedis);
  await featureRedis.connect().catch(() => undefined);
  const features = new RedisFeatureStore(featureRedis);
  return {
    cache,
    features,
    ready: () => cache.ping(),
    close: async () => {
      await features.close();
      await cache.close();
    },
  };
}
