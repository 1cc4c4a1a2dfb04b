import { closeRedis, pingRedis } from '@fitness/redis-kit';
import type { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimiter, RateLimitRule } from './RateLimiter.js';

/**
 * Checks every counter, then counts on all of them or on none, in one script so
 * that replicas racing on the same account cannot both pass at limit - 1.
 * KEYS[i] is a counter; ARGV[2i-1] its limit and ARGV[2i] its window in ms.
 * Returns 0 when allowed, else the milliseconds until the longest block ends.
 */
const TAKE = `
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      -- A counter that somehow lost its expiry must not block forever.
      redis.call('PEXPIRE', key, ARGV[2 * i])
      ttl = tonumber(ARGV[2 * i])
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return 0
`;

/** DECR on a missing key would create one without expiry; only live, positive counters go down. */
const GIVE_BACK = `
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 0
`;

export interface RedisRateLimiterOptions {
  /**
   * Prepended to every key. The `{...}` hash tag keeps all counters of one script
   * in one Redis Cluster slot, which a multi-key script requires.
   * @default 'users:{signin-throttle}:'
   */
  keyPrefix?: string;
}

/** The Redis adapter: fixed-window counters (INCR + PEXPIRE) that every replica shares. */
export class RedisRateLimiter implements RateLimiter {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    options: RedisRateLimiterOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? 'users:{signin-throttle}:';
  }

  async take(rules: readonly RateLimitRule[]): Promise<RateLimitDecision> {
    if (rules.length === 0) return { allowed: true };
    const keys = rules.map((r) => this.keyPrefix + r.key);
    const args = rules.flatMap((r) => [String(r.limit), String(Math.max(1, Math.round(r.windowMs)))]);
    const wait = Number(await this.redis.eval(TAKE, keys.length, ...keys, ...args));
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  async giveBack(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.redis.eval(GIVE_BACK, keys.length, ...keys.map((k) => this.keyPrefix + k));
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.keyPrefix + key);
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}
