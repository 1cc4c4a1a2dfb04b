import { createHash } from 'node:crypto';
import {
  badUserInput,
  conflict,
  notFound,
  paymentDeclined,
  unauthenticated,
  validateText,
} from '@fitness/server-kit';
import DataLoader from 'dataloader';
import type { MembershipRecord, PaymentPage, PaymentRecord, PlanRecord } from './models.js';
import type { PaymentProvider } from './PaymentProvider.js';
import { type BeginPurchase, type PaymentsStore, PurchaseRefused } from './PaymentsStore.js';
import { settleStalePurchase } from './stalePurchases.js';

export interface StartMembershipInput {
  planId: string;
  paymentMethodToken: string;
  idempotencyKey: string;
  promoCode?: string | null;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_:-]{8,128}$/;
const PROMO_CODE = /^[A-Z0-9_-]{1,32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;

/** The shared character check, naming the value in `argument` as the rest of payments does. */
const checkText = (value: string, argument: string) =>
  validateText(value, argument, { kind: 'identifier', nameKey: 'argument' });

export const MAX_PAGE = 100;

export function encodeCursor(payment: PaymentRecord): string {
  return Buffer.from(`${payment.createdAtKey}|${payment.id}`, 'utf8').toString('base64url');
}

/** The pattern admits month 13 or hour 99: the instant must also exist, unchanged by parsing. */
function realInstant(key: string): boolean {
  const millis = Date.parse(`${key.slice(0, 23)}Z`);
  return !Number.isNaN(millis) && new Date(millis).toISOString().slice(0, 23) === key.slice(0, 23);
}

export function decodeCursor(cursor: string): { createdAtKey: string; id: string } {
  // Base64url decoding skips characters outside its alphabet, so a NUL would pass unseen.
  checkText(cursor, 'after');
  const [createdAtKey, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const valid =
    rest.length === 0 &&
    createdAtKey !== undefined &&
    id !== undefined &&
    CURSOR_TIME.test(createdAtKey) &&
    UUID.test(id) &&
    realInstant(createdAtKey);
  if (!valid) {
    throw badUserInput('The cursor is not valid; use an endCursor this API returned.', { argument: 'after' });
  }
  return { createdAtKey, id };
}

/** Per-request access to payments data; its loaders are never shared between requests. */
export class PaymentsDataSource {
  private readonly planById: DataLoader<string, PlanRecord | null>;
  private readonly isPremiumByUserId: DataLoader<string, boolean>;
  private readonly membershipByUserId: DataLoader<string, MembershipRecord | null>;

  constructor(
    private readonly store: PaymentsStore,
    private readonly provider: PaymentProvider,
  ) {
    this.planById = new DataLoader((ids) => store.plansByIds(ids));
    this.isPremiumByUserId = new DataLoader(async (userIds) => {
      const premium = await store.premiumUserIds(userIds);
      return userIds.map((id) => premium.has(id));
    });
    this.membershipByUserId = new DataLoader((userIds) => store.currentMemberships(userIds));
  }

  listPlans(): Promise<PlanRecord[]> {
    return this.store.listPlans();
  }

  getPlan(id: string): Promise<PlanRecord | null> {
    return this.planById.load(id);
  }

  isPremium(userId: string): Promise<boolean> {
    return this.isPremiumByUserId.load(userId);
  }

  currentMembership(userId: string): Promise<MembershipRecord | null> {
    return this.membershipByUserId.load(userId);
  }

  async paymentsPage(userId: string, first: number | null | undefined, after: string | null | undefined) {
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
      throw badUserInput(`first must be between 1 and ${MAX_PAGE}.`, { argument: 'first' });
    }
    const rows = await this.store.listPayments({
      userId,
      first: size + 1,
      ...(after ? { after: decodeCursor(after) } : {}),
    });
    const page = rows.slice(0, size);
    const edges = page.map((node) => ({ cursor: encodeCursor(node), node }));
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    } satisfies PaymentPage;
  }

  /**
   * Charges and activates in two steps around the provider call, so no database
   * transaction stays open across the network: begin (record a PENDING attempt, or
   * find the one this key already made), charge with the attempt's id as the
   * provider's idempotency key, complete (settle exactly once). A retry of a crashed
   * or concurrent request re-drives the same attempt; the provider never charges twice.
   * An attempt left PENDING past the pending timeout is settled with the provider
   * instead of blocking the user's next purchase (see settleStalePurchase).
   */
  async startMembership(userId: string, input: StartMembershipInput): Promise<MembershipRecord> {
    checkText(input.planId, 'planId');
    checkText(input.paymentMethodToken, 'paymentMethodToken');
    checkText(input.idempotencyKey, 'idempotencyKey');
    if (input.promoCode) checkText(input.promoCode, 'promoCode');
    if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
      throw badUserInput("idempotencyKey must be 8 to 128 characters of letters, digits, '-', '_' and ':'.", {
        argument: 'idempotencyKey',
      });
    }
    if (!this.provider.isKnownToken(input.paymentMethodToken)) {
      throw badUserInput('paymentMethodToken is not a payment method the provider knows.', {
        argument: 'paymentMethodToken',
      });
    }
    const promoCode = input.promoCode?.trim().toUpperCase() || null;
    if (promoCode && !PROMO_CODE.test(promoCode)) {
      throw badUserInput('This promo code is unknown, expired or used up.', { argument: 'promoCode' });
    }
    const plan = await this.getPlan(input.planId);
    if (!plan) throw notFound(`No plan with id ${input.planId}.`);
    const requestHash = createHash('sha256')
      .update(JSON.stringify([plan.id, input.paymentMethodToken, promoCode]))
      .digest('hex');

    let attempt: PaymentRecord;
    try {
      attempt = await this.beginPurchase({
        userId,
        idempotencyKey: input.idempotencyKey,
        requestHash,
        plan,
        promoCode,
      });
    } catch (error) {
      if (!(error instanceof PurchaseRefused)) throw error;
      if (error.reason === 'PROMO_INVALID') throw badUserInput(error.message, { argument: 'promoCode' });
      if (error.reason === 'ACCOUNT_DELETED') throw unauthenticated(error.message);
      throw conflict(error.message);
    }
    if (attempt.requestHash !== requestHash) {
      throw conflict('This idempotencyKey was already used for a different request.');
    }

    if (attempt.status === 'PENDING') {
      const attemptPlan = (await this.getPlan(attempt.planId)) ?? plan;
      const result = await this.provider.charge({
        idempotencyKey: attempt.id,
        amountCents: attempt.amountCents,
        currency: attempt.currency,
        paymentMethodToken: input.paymentMethodToken,
      });
      attempt = await this.store.completePurchase(attempt.id, result, attemptPlan);
    }

    if (attempt.status === 'FAILED')
      throw paymentDeclined(attempt.failureReason ?? 'The payment was declined.');
    const membership = attempt.membershipId ? await this.store.membershipById(attempt.membershipId) : null;
    if (!membership) throw new Error(`payment ${attempt.id} settled without a membership`);
    this.membershipByUserId.clear(userId);
    this.isPremiumByUserId.clear(userId);
    return membership;
  }

  /**
   * A stale PENDING attempt (its request died, or its client lost the key) would block
   * the user for good: it is settled with the provider, then the purchase is decided
   * again. Charged after all, it opens the membership this request then conflicts with.
   */
  private async beginPurchase(input: BeginPurchase): Promise<PaymentRecord> {
    try {
      return (await this.store.beginPurchase(input)).payment;
    } catch (error) {
      if (!(error instanceof PurchaseRefused) || error.reason !== 'STALE_PURCHASE') throw error;
      for (const stale of error.stale) await settleStalePurchase(this.store, this.provider, stale);
      return (await this.store.beginPurchase(input)).payment;
    }
  }

  async cancelMembership(userId: string): Promise<MembershipRecord> {
    const membership = await this.store.cancelAtPeriodEnd(userId);
    if (!membership) throw notFound('You have no active membership.');
    this.membershipByUserId.clear(userId);
    return membership;
  }
}
