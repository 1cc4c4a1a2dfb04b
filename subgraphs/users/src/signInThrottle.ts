import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { rateLimited } from '@fitness/server-kit';
import type { RateLimiter, RateLimitRule } from './datasources/RateLimiter.js';

export interface SignInThrottleSettings {
  /** Failed sign-ins per account (normalized email) per window. @default 5 */
  maxFailuresPerAccount: number;
  /** Failed sign-ins per client address per window. @default 20 */
  maxFailuresPerAddress: number;
  /** @default 900 (15 minutes) */
  windowSeconds: number;
}

/** What a sign-in reports back once the password has been checked. */
export interface SignInAttempt {
  succeeded(): Promise<void>;
}

/**
 * The address a counter is kept for. IPv6 counts per /64, the block one subscriber
 * usually gets: counting single IPv6 addresses would let one client rotate through
 * 2^64 of them. Anything that is not an IP address counts as no address.
 */
export function addressKey(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const address = raw.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped?.[1]) return mapped[1];
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return null;
  const groups = expandIPv6(address);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** A limiter's wait as the whole seconds of RATE_LIMITED's `retryAfterSec`, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** The eight 16-bit groups of an IPv6 address, or null for forms with an embedded IPv4 part. */
function expandIPv6(address: string): string[] | null {
  if (address.includes('.')) return null;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.replace(/^0+(?=.)/, ''));
}

/**
 * Brute-force protection for signIn. Every attempt is counted BEFORE the password
 * is checked, atomically with the limit check, so parallel guesses cannot race past
 * the limit; a blocked attempt never reaches the password check at all. A success
 * clears the account's counter and takes its count back from the address, so only
 * failures stay counted. Unknown emails are counted like known ones: being
 * throttled tells nobody whether an account exists.
 */
export class SignInThrottle {
  private readonly windowMs: number;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly settings: SignInThrottleSettings,
  ) {
    this.windowMs = settings.windowSeconds * 1000;
  }

  /** Counts an attempt or throws RATE_LIMITED with `retryAfterSec`. */
  async begin(email: string, clientAddress: string | null): Promise<SignInAttempt> {
    // Hashed: counters need no email in clear, and the key length stays bounded.
    const accountKey = `account:${createHash('sha256').update(email).digest('hex')}`;
    const address = addressKey(clientAddress);
    const rules: RateLimitRule[] = [
      { key: accountKey, limit: this.settings.maxFailuresPerAccount, windowMs: this.windowMs },
    ];
    if (address) {
      rules.push({
        key: `address:${address}`,
        limit: this.settings.maxFailuresPerAddress,
        windowMs: this.windowMs,
      });
    }
    const decision = await this.limiter.take(rules);
    if (!decision.allowed) {
      const retryAfterSec = retryAfterSeconds(decision.retryAfterMs);
      throw rateLimited(`Too many failed sign-ins. Try again in ${retryAfterSec} seconds.`, retryAfterSec);
    }
    return {
      succeeded: async () => {
        await this.limiter.reset(accountKey);
        if (address) await this.limiter.giveBack([`address:${address}`]);
      },
    };
  }
}
