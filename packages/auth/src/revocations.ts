/**
 * Tokens refused before they expire: those of a deleted account, and those issued
 * before a signOutEverywhere. Verifiers consult the list after the signature check
 * (createTokenVerifier's `revocations`); `users.deleted` and `users.signed_out`
 * feed it in every service (revocationFeed.ts), and users also writes it directly
 * when it revokes, so that a shared (Redis) list refuses the tokens at once.
 */
export interface Revocation {
  userId: string;
  /** Tokens issued before this instant are refused; null: every token (the account is gone). */
  issuedBefore: Date | null;
  /** Every token the revocation refuses has expired by then: it is forgotten afterwards. */
  until: Date;
}

/** The revocation port: Redis (shared by every service and replica) or in process. */
export interface RevocationList {
  /**
   * Records a revocation. Idempotent, and it only ever widens: a later cutoff
   * replaces an earlier one, "every token" replaces any cutoff, and the entry is
   * kept until the latest `until` it was given.
   */
  revoke(revocation: Revocation): Promise<void>;
  /**
   * True when a token of `userId` issued at `issuedAt` is refused. `requestId`: the
   * request asking, named on a line the check writes (an outage of the shared list).
   */
  isRevoked(userId: string, issuedAt: Date, requestId?: string): Promise<boolean>;
  /**
   * Calls `listener` for every revocation that widened the list from now on: this
   * process's, and with Redis every other process's too. Returns the unsubscribe.
   */
  onRevoked(listener: (revocation: Revocation) => void): () => void;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A revocation's cutoff as a number: Infinity for "every token". */
export const cutoffOf = (revocation: Pick<Revocation, 'issuedBefore'>): number =>
  revocation.issuedBefore === null ? Number.POSITIVE_INFINITY : revocation.issuedBefore.getTime();

/**
 * Whether a revocation refuses a token issued at `issuedAt`. A token issued in the
 * very millisecond of the cutoff is refused: on a tie, refusing is the safe side.
 */
export function refuses(revocation: Pick<Revocation, 'issuedBefore'>, issuedAt: Date): boolean {
  return issuedAt.getTime() <= cutoffOf(revocation);
}

interface Entry {
  cutoff: number;
  until: number;
}

/**
 * In process (REDIS_URL unset: single-instance mode), also the local mirror of the
 * Redis adapter. Entries go when their `until` has passed.
 */
export class MemoryRevocationList implements RevocationList {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(revocation: Revocation) => void>();
  private writesSincePrune = 0;

  /** Records the revocation; true when it widened the list (and listeners were told). */
  record(revocation: Revocation, now = Date.now()): boolean {
    this.prune(now);
    const cutoff = cutoffOf(revocation);
    const until = revocation.until.getTime();
    if (until <= now) return false;
    const current = this.live(revocation.userId, now);
    if (current && current.cutoff >= cutoff) {
      current.until = Math.max(current.until, until);
      return false;
    }
    this.entries.set(revocation.userId, { cutoff, until: Math.max(until, current?.until ?? 0) });
    for (const listener of this.listeners) listener(revocation);
    return true;
  }

  async revoke(revocation: Revocation): Promise<void> {
    this.record(revocation);
  }

  /** Synchronous, for the Redis adapter's fallback. */
  refusesNow(userId: string, issuedAt: Date): boolean {
    const entry = this.live(userId, Date.now());
    return entry !== undefined && issuedAt.getTime() <= entry.cutoff;
  }

  async isRevoked(userId: string, issuedAt: Date): Promise<boolean> {
    return this.refusesNow(userId, issuedAt);
  }

  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private live(userId: string, now: number): Entry | undefined {
    const entry = this.entries.get(userId);
    if (entry && entry.until <= now) {
      this.entries.delete(userId);
      return undefined;
    }
    return entry;
  }

  /** Drops expired entries every 1,000 writes, so a long-lived process stays bounded. */
  private prune(now: number): void {
    if (++this.writesSincePrune < 1_000) return;
    this.writesSincePrune = 0;
    for (const [userId, entry] of this.entries) if (entry.until <= now) this.entries.delete(userId);
  }
}
