import type { RateLimitDecision, RateLimiter, RateLimitRule } from './RateLimiter.js';

interface Counter {
  count: number;
  expiresAt: number;
}

/** Sweep expired counters every this many `take`s, so sprayed keys cannot pile up. */
const SWEEP_EVERY = 1_000;

/**
 * The in-process adapter (single-instance mode): counters live in this process
 * only, so with several replicas each one throttles on its own. JavaScript runs
 * `take` without interleaving, which makes it atomic without locks.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private takes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string, now: number): Counter | undefined {
    const counter = this.counters.get(key);
    if (counter && counter.expiresAt <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return counter;
  }

  async take(rules: readonly RateLimitRule[]): Promise<RateLimitDecision> {
    const now = this.now();
    this.takes += 1;
    if (this.takes % SWEEP_EVERY === 0) this.sweep(now);
    let retryAfterMs = 0;
    for (const rule of rules) {
      const counter = this.live(rule.key, now);
      if (counter && counter.count >= rule.limit) {
        retryAfterMs = Math.max(retryAfterMs, counter.expiresAt - now);
      }
    }
    if (retryAfterMs > 0) return { allowed: false, retryAfterMs };
    for (const rule of rules) {
      const counter = this.live(rule.key, now);
      if (counter) counter.count += 1;
      else this.counters.set(rule.key, { count: 1, expiresAt: now + rule.windowMs });
    }
    return { allowed: true };
  }

  async giveBack(keys: readonly string[]): Promise<void> {
    const now = this.now();
    for (const key of keys) {
      const counter = this.live(key, now);
      if (counter) counter.count = Math.max(0, counter.count - 1);
    }
  }

  async reset(key: string): Promise<void> {
    this.counters.delete(key);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.counters.clear();
  }

  private sweep(now: number) {
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
  }
}
