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

/** The card processor, behind a port so a real provider can replace the sandbox. */
export interface PaymentProvider {
  /** False for a token the provider would refuse outright (not a decline). */
  isKnownToken(token: string): boolean;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

/**
 * The sandbox processor of development and tests: `tok_visa` succeeds and
 * `tok_chargeDeclined` is declined, like common providers' test tokens. Idempotent
 * per key, as real processors are, and it counts real charges for tests.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  private readonly results = new Map<string, ChargeResult>();
  /** Charges actually made (not replays of a key). */
  chargesMade = 0;

  isKnownToken(token: string): boolean {
    return token === 'tok_visa' || token === 'tok_chargeDeclined';
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const previous = this.results.get(request.idempotencyKey);
    if (previous) return previous;
    this.chargesMade += 1;
    const result: ChargeResult =
      request.paymentMethodToken === 'tok_visa'
        ? {
            status: 'succeeded',
            providerRef: `ch_sandbox_${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 16)}`,
          }
        : { status: 'declined', reason: 'Your card was declined.' };
    this.results.set(request.idempotencyKey, result);
    return result;
  }
}
