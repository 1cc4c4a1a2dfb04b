import { Redis } from 'ioredis';
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
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  let down = false;
  redis.on('ready', () => {
    if (down) logger.info('leaderboard redis connection restored');
    down = false;
  });
  // Without a listener ioredis prints every failed reconnect to stderr.
  redis.on('error', (err) => {
    if (!down) logger.warn({ err }, 'leaderboard redis unavailable');
    down = true;
  });
  return redis;
}

/** The board store and its notices: Redis when a URL is given, else in process. */
export async function openLeaderboardStore(
  redisUrl: string | undefined,
  logger: Logger,
  options: { keyPrefix?: string } = {},
): Promise<{ store: LeaderboardStore; notices: BoardNotices; shared: boolean }> {
  if (!redisUrl) {
    return { store: new MemoryLeaderboardStore(), notices: new MemoryBoardNotices(), shared: false };
  }
  const redis = createLeaderboardRedis(redisUrl, logger);
  // A failed first attempt is logged by the error listener; reconnection goes on.
  await redis.connect().catch(() => undefined);
  return {
    store: new RedisLeaderboardStore(redis, options),
    notices: new RedisBoardNotices(redis, logger, options),
    shared: true,
  };
}
