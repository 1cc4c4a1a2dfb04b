import { createRedisClient, observeRedis } from '@fitness/redis-kit';
import type { StoreClientMetrics } from '@fitness/server-kit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LeaderboardStore } from './LeaderboardStore.js';
import { MemoryLeaderboardStore } from './MemoryLeaderboardStore.js';
import { type BoardNotices, MemoryBoardNotices, RedisBoardNotices } from './notices.js';
import { RedisLeaderboardStore } from './RedisLeaderboardStore.js';

/**
 * A Redis client for the boards. Commands fail after one attempt rather than
 * queue forever: the consumer's failed apply is redelivered by the bus with
 * backoff, and a failed read is an error the client sees at once.
 */
export function createLeaderboardRedis(url: string, logger: Logger): Redis {
  return createRedisClient(url, logger, {
    whenDown: 'leaderboards cannot be read or updated',
    commandTimeoutMs: 2_000,
    // Commands queue while reconnecting: a short blip delays board reads instead of failing them.
    offlineQueue: true,
  });
}

/** The board store and its notices: Redis when a URL is given, else in process. */
export async function openLeaderboardStore(
  redisUrl: string | undefined,
  logger: Logger,
  options: { keyPrefix?: string; metrics?: StoreClientMetrics } = {},
): Promise<{ store: LeaderboardStore; notices: BoardNotices; shared: boolean }> {
  if (!redisUrl) {
    return { store: new MemoryLeaderboardStore(), notices: new MemoryBoardNotices(), shared: false };
  }
  const redis = createLeaderboardRedis(redisUrl, logger);
  observeRedis(options.metrics, 'leaderboards', redis);
  // A failed first attempt is logged by the error listener; reconnection goes on.
  await redis.connect().catch(() => undefined);
  return {
    store: new RedisLeaderboardStore(redis, options),
    notices: new RedisBoardNotices(redis, logger, options),
    shared: true,
  };
}
