import { createHash } from 'node:crypto';

export interface ChargeRequest {
  /** The provider dedupes on it: charging twice with one key charges once. */
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  paymentMethodToken: string;
}

export type ChargeResult =
  | { status: 'succeeded'; providerRef: string }
  | { status: 'declined'; reason: string };

/** What became of an attempt: its charge's result, or none was made (and none ever will be). */
export type ChargeOutcome = ChargeResult | { status: 'voided' };

/** The card processor, behind a port so a real provider can replace the sandbox. */
export interface PaymentProvider {
  /** False for a token the provider would refuse outright (not a decline). */
  isKnownToken(token: string): boolean;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * The result of the charge made with this key, for an attempt whose request died.
   * When none was made the key is voided first, atomically with the look-up (a real
   * provider cancels the payment intent): a charge with it still on its way is then
   * declined, not made, so the answer given here never changes.
   */
  lookupOrVoid(idempotencyKey: string): Promise<ChargeOutcome>;
}

export interface SandboxPaymentProviderOptions {
  /**
   * How long a key's outcome is remembered, from its first use, as real processors
   * keep idempotency keys (24 hours is common). Must exceed the time a PENDING
   * attempt may wait before it is settled (PAYMENTS_PENDING_TIMEOUT_SECONDS).
   * @default 86_400_000
   */
  keyRetentionMs?: number;
  /** Keys remembered at most; past it the oldest is forgotten first. @default 100_000 */
  maxKeys?: number;
  /** Milliseconds since the epoch; injectable for tests. @default Date.now */
  now?: () => number;
}

export const SANDBOX_KEY_RETENTION_MS = 86_400_000;

type Remembered = { outcome: ChargeOutcome; at: number };

/**
 * The sandbox processor of development and tests: `tok_visa` succeeds and
 * `tok_chargeDeclined` is declined, like common providers' test tokens. Idempotent
 * per key within its retention, as real processors are, and it counts real charges
 * for tests.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  /** Insertion order is first-use order: keys are never re-inserted while remembered. */
  private readonly outcomes = new Map<string, Remembered>();
  private readonly keyRetentionMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Charges actually made (not replays of a key). */
  chargesMade = 0;

  constructor(options: SandboxPaymentProviderOptions = {}) {
    this.keyRetentionMs = options.keyRetentionMs ?? SANDBOX_KEY_RETENTION_MS;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.outcomes.size;
  }

  isKnownToken(token: string): boolean {
    return token === 'tok_visa' || token === 'tok_chargeDeclined';
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const previous = this.recall(request.idempotencyKey);
    if (previous?.status === 'voided') {
      return { status: 'declined', reason: 'This payment attempt was voided before it was charged.' };
    }
    if (previous) return previous;
    this.chargesMade += 1;
    const result: ChargeResult =
      request.paymentMethodToken === 'tok_visa'
        ? {
            status: 'succeeded',
            providerRef: `ch_sandbox_${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 16)}`,
          }
        : { status: 'declined', reason: 'Your card was declined.' };
    this.remember(request.idempotencyKey, result);
    return result;
  }

  async lookupOrVoid(idempotencyKey: string): Promise<ChargeOutcome> {
    const previous = this.recall(idempotencyKey);
    if (previous) return previous;
    const voided: ChargeOutcome = { status: 'voided' };
    this.remember(idempotencyKey, voided);
    return voided;
  }

  private recall(key: string): ChargeOutcome | undefined {
    this.forgetExpired();
    return this.outcomes.get(key)?.outcome;
  }

  private remember(key: string, outcome: ChargeOutcome): void {
    this.outcomes.set(key, { outcome, at: this.now() });
    while (this.outcomes.size > this.maxKeys) this.outcomes.delete(this.outcomes.keys().next().value!);
  }

  // Oldest first: stop at the first key still within its retention.
  private forgetExpired(): void {
    const cutoff = this.now() - this.keyRetentionMs;
    for (const [key, { at }] of this.outcomes) {
      if (at > cutoff) break;
      this.outcomes.delete(key);
    }
  }
}
