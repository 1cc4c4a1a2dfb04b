/** One counter: at most `limit` counted attempts per `windowMs`, keyed by `key`. */
export interface RateLimitRule {
  key: string;
  limit: number;
  windowMs: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Fixed-window counters shared by every replica (Redis) or held in process (memory).
 * `take` checks and counts in one atomic step, so N parallel attempts cannot all
 * slip through under the limit before any of them is counted.
 */
export interface RateLimiter {
  /**
   * When every rule's counter is under its limit, counts one attempt on each and
   * allows; otherwise counts nothing and says how long until the longest-blocked
   * window ends. A window starts at its first counted attempt.
   */
  take(rules: readonly RateLimitRule[]): Promise<RateLimitDecision>;
  /** Uncounts one attempt (it turned out not to be a failure); never below zero. */
  giveBack(keys: readonly string[]): Promise<void>;
  /** Forgets a counter altogether. */
  reset(key: string): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
