import { closeRedis, connectRedis, createRedisClient, observeRedis, pingRedis } from '@fitness/redis-kit';
import type { StoreClientMetrics } from '@fitness/server-kit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { MemoryRevocationList, type Revocation, type RevocationList, refuses } from './revocations.js';

/**
 * Widens one user's entry atomically: the stored cutoff (milliseconds, or `all`)
 * only grows, the expiry only moves later. Publishes the revocation when it widened
 * the entry, so that every process closes that user's sockets at once.
 *
 * KEYS: entry. ARGV: cutoff (ms or `all`), until (ms), channel, message
 */
const REVOKE = `
local current = redis.call('GET', KEYS[1])
local wider = current == false or (current ~= 'all' and (ARGV[1] == 'all' or tonumber(ARGV[1]) > tonumber(current)))
local expiry = tonumber(redis.call('PEXPIRETIME', KEYS[1]))
local untilMs = tonumber(ARGV[2])
if expiry > untilMs then untilMs = expiry end
if wider then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', untilMs)
  redis.call('PUBLISH', ARGV[3], ARGV[4])
  return 1
end
if expiry < untilMs then redis.call('PEXPIREAT', KEYS[1], untilMs) end
return 0
`;

type WithRevoke = Redis & { revocationRevoke(key: string, ...args: (string | number)[]): Promise<number> };

export interface RedisRevocationListOptions {
  /** Prepended to every key and to the channel; tests use it so runs sharing a Redis never collide. @default '' */
  keyPrefix?: string;
  logger: Logger;
  /** Where the channel's subscriber connection is reported (store `revocation_notices`). */
  metrics?: StoreClientMetrics | undefined;
}

interface Message {
  userId: string;
  issuedBefore: number | null;
  until: number;
}

/**
 * The Redis adapter: one key per user (`revoked:<userId>`, the cutoff, expiring
 * with the last token it refuses), shared by the router, every subgraph and every
 * replica; a pub/sub channel tells them all at once. Each check is one GET.
 *
 * While Redis is down, checks answer from a local mirror of every revocation this
 * process has seen (its own, the channel's, and those the events feed in), so the
 * API stays up and tokens revoked through the events are still refused. It is
 * logged once per outage.
 */
export class RedisRevocationList implements RevocationList {
  private readonly prefix: string;
  private readonly channel: string;
  private readonly redis: WithRevoke;
  private readonly mirror = new MemoryRevocationList();
  private subscriber: Redis | undefined;
  private degraded = false;

  constructor(
    redis: Redis,
    private readonly options: RedisRevocationListOptions,
  ) {
    this.prefix = `${options.keyPrefix ?? ''}revoked:`;
    this.channel = `${options.keyPrefix ?? ''}revocations`;
    if (!('revocationRevoke' in redis))
      redis.defineCommand('revocationRevoke', { numberOfKeys: 1, lua: REVOKE });
    this.redis = redis as WithRevoke;
  }

  async revoke(revocation: Revocation): Promise<void> {
    // The mirror first: refused here even if Redis fails now (the caller retries that).
    this.mirror.record(revocation);
    const message: Message = {
      userId: revocation.userId,
      issuedBefore: revocation.issuedBefore?.getTime() ?? null,
      until: revocation.until.getTime(),
    };
    await this.redis.revocationRevoke(
      this.prefix + revocation.userId,
      message.issuedBefore ?? 'all',
      message.until,
      this.channel,
      JSON.stringify(message),
    );
  }

  async isRevoked(userId: string, issuedAt: Date, requestId?: string): Promise<boolean> {
    let stored: string | null;
    try {
      stored = await this.redis.get(this.prefix + userId);
    } catch (err) {
      if (!this.degraded) {
        // Only when given: an undefined requestId would hide the one of a request scope.
        this.options.logger.warn(
          { err, ...(requestId ? { requestId } : {}) },
          'revocations unavailable: checking tokens against those seen here',
        );
        this.degraded = true;
      }
      return this.mirror.refusesNow(userId, issuedAt);
    }
    if (this.degraded)
      this.options.logger.info(requestId ? { requestId } : {}, 'revocations available again');
    this.degraded = false;
    if (stored === null) return this.mirror.refusesNow(userId, issuedAt);
    return refuses({ issuedBefore: stored === 'all' ? null : new Date(Number(stored)) }, issuedAt);
  }

  /** Subscribes to the channel with a connection of its own (a subscribed client runs no other command). */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    const unsubscribe = this.mirror.onRevoked(listener);
    if (!this.subscriber) {
      const subscriber = this.redis.duplicate({ enableOfflineQueue: true, lazyConnect: false });
      subscriber.on('error', () => undefined);
      observeRedis(this.options.metrics, 'revocation_notices', subscriber);
      subscriber.on('message', (channel: string, text: string) => {
        if (channel !== this.channel) return;
        const message = parseMessage(text);
        if (!message) return;
        this.mirror.record({
          userId: message.userId,
          issuedBefore: message.issuedBefore === null ? null : new Date(message.issuedBefore),
          until: new Date(message.until),
        });
      });
      subscriber.subscribe(this.channel).catch((err: unknown) => {
        this.options.logger.warn({ err }, 'could not subscribe to revocations; sockets close on the events');
      });
      this.subscriber = subscriber;
    }
    return unsubscribe;
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }

  async close(): Promise<void> {
    await this.mirror.close();
    if (this.subscriber) await closeRedis(this.subscriber);
    await closeRedis(this.redis);
  }
}

function parseMessage(text: string): Message | undefined {
  try {
    const m = JSON.parse(text) as Partial<Message>;
    const cutoffOk = m.issuedBefore === null || Number.isFinite(m.issuedBefore);
    if (typeof m.userId === 'string' && cutoffOk && Number.isFinite(m.until)) return m as Message;
  } catch {
    // not ours
  }
  return undefined;
}

/**
 * The list a service checks tokens against: Redis when REDIS_URL is set (one list
 * for the router, every subgraph and every replica), else in process.
 */
export async function openRevocationList(config: {
  redisUrl: string | undefined;
  logger: Logger;
  /** Where its Redis clients are reported: stores `revocations` and `revocation_notices`. */
  metrics?: StoreClientMetrics | undefined;
}): Promise<RevocationList> {
  if (!config.redisUrl) {
    config.logger.info('REDIS_URL is unset: token revocations are kept in process (single-instance mode)');
    return new MemoryRevocationList();
  }
  const redis = createRedisClient(config.redisUrl, config.logger, {
    whenDown: 'tokens are checked against the revocations this process has seen',
  });
  observeRedis(config.metrics, 'revocations', redis);
  await connectRedis(redis);
  return new RedisRevocationList(redis, { logger: config.logger, metrics: config.metrics });
}
