import { rateLimited } from '@fitness/server-kit';
import type { RateLimiter } from './datasources/RateLimiter.js';
import { addressKey, retryAfterSeconds } from './signInThrottle.js';

export interface SignUpThrottleSettings {
  /** Sign-ups per client address per window. @default 20 */
  maxPerAddress: number;
  /** @default 900 (15 minutes) */
  windowSeconds: number;
}

/**
 * Bounds the sign-ups one client address may start: each one hashes a password with
 * scrypt and 32 MiB, so a flood of them from one source would starve the service.
 * Every attempt that passes input validation counts, a duplicate email or handle
 * too (it costs the same hash, and CONFLICT tells whether an account exists).
 * Counted per address only, an IPv6 /64 as one; a request with no known address
 * is not counted, as for signIn.
 */
export class SignUpThrottle {
  private readonly windowMs: number;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly settings: SignUpThrottleSettings,
  ) {
    this.windowMs = settings.windowSeconds * 1000;
  }

  /** Counts a sign-up or throws RATE_LIMITED with `retryAfterSec`. */
  async begin(clientAddress: string | null): Promise<void> {
    const address = addressKey(clientAddress);
    if (!address) return;
    const decision = await this.limiter.take([
      { key: `signup-address:${address}`, limit: this.settings.maxPerAddress, windowMs: this.windowMs },
    ]);
    if (decision.allowed) return;
    const retryAfterSec = retryAfterSeconds(decision.retryAfterMs);
    throw rateLimited(
      `Too many sign-ups from this address. Try again in ${retryAfterSec} seconds.`,
      retryAfterSec,
    );
  }
}
