import { realService, uniquePrefix } from '@fitness/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import type { RateLimiter } from '../src/datasources/RateLimiter.js';
import { RedisRateLimiter } from '../src/datasources/RedisRateLimiter.js';

interface LimiterAdapter {
  name: string;
  open(): Promise<RateLimiter>;
}

function limiterAdapters(): LimiterAdapter[] {
  const adapters: LimiterAdapter[] = [{ name: 'memory', open: async () => new MemoryRateLimiter() }];
  const url = realService('redis', 'users rate limiter on redis');
  if (url) {
    adapters.push({
      name: 'redis',
      // A prefix of its own per run, with the hash tag the adapter relies on for Redis Cluster.
      open: async () => new RedisRateLimiter(new Redis(url), { keyPrefix: `${uniquePrefix('rl')}{t}:` }),
    });
  }
  return adapters;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rule = (key: string, limit = 3, windowMs = 60_000) => ({ key, limit, windowMs });

describe.each(limiterAdapters())('RateLimiter contract on $name', (adapter) => {
  let limiter: RateLimiter;
  beforeAll(async () => {
    limiter = await adapter.open();
  });
  afterAll(async () => {
    await limiter.close();
  });

  it('should allow up to the limit, then refuse with the time left in the window', async () => {
    for (let i = 0; i < 3; i++) expect(await limiter.take([rule('a')])).toEqual({ allowed: true });
    const refused = await limiter.take([rule('a')]);
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) {
      expect(refused.retryAfterMs).toBeGreaterThan(55_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    expect((await limiter.take([rule('other')])).allowed).toBe(true);
  });

  it('should count on all rules or on none', async () => {
    for (let i = 0; i < 2; i++) await limiter.take([rule('full', 2)]);
    // "full" is at its limit: "spare" must not be counted by the refused attempt.
    for (let i = 0; i < 5; i++) {
      expect((await limiter.take([rule('spare', 1), rule('full', 2)])).allowed).toBe(false);
    }
    expect((await limiter.take([rule('spare', 1)])).allowed).toBe(true);
    expect((await limiter.take([rule('spare', 1)])).allowed).toBe(false);
  });

  it('should start a fresh window once the old one has passed', async () => {
    for (let i = 0; i < 2; i++) await limiter.take([rule('short', 2, 200)]);
    expect((await limiter.take([rule('short', 2, 200)])).allowed).toBe(false);
    await sleep(250);
    expect((await limiter.take([rule('short', 2, 200)])).allowed).toBe(true);
  });

  it('should forget a counter on reset and uncount on giveBack, never below zero', async () => {
    for (let i = 0; i < 3; i++) await limiter.take([rule('r')]);
    await limiter.reset('r');
    for (let i = 0; i < 3; i++) expect((await limiter.take([rule('r')])).allowed).toBe(true);

    await limiter.take([rule('g', 2)]);
    await limiter.take([rule('g', 2)]);
    await limiter.giveBack(['g']);
    expect((await limiter.take([rule('g', 2)])).allowed).toBe(true);
    expect((await limiter.take([rule('g', 2)])).allowed).toBe(false);

    await limiter.giveBack(['never-taken', 'never-taken']);
    for (let i = 0; i < 3; i++) expect((await limiter.take([rule('never-taken')])).allowed).toBe(true);
    expect((await limiter.take([rule('never-taken')])).allowed).toBe(false);
  });

  it('should let exactly the limit through under concurrent attempts', async () => {
    const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.take([rule('race', 5)])));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
  });

  it('should answer ping', async () => {
    expect(await limiter.ping()).toBe(true);
  });
});
