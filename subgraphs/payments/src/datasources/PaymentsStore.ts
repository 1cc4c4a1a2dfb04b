import { randomUUID } from 'node:crypto';
import { createEnvelope, writeOutbox } from '@fitness/events';
import { type Pool, type PoolClient, withTransaction } from '@fitness/pg-kit';
import type { MembershipRecord, PaymentRecord, PlanRecord } from './models.js';
import type { ChargeResult } from './PaymentProvider.js';

/** A purchase the store refuses; the data source turns it into a contract error. */
export class PurchaseRefused extends Error {
  constructor(
    readonly reason:
      | 'OPEN_MEMBERSHIP'
      | 'PURCHASE_IN_PROGRESS'
      | 'PROMO_INVALID'
      | 'STALE_PURCHASE'
      | 'ACCOUNT_DELETED',
    message: string,
    /** For STALE_PURCHASE: the PENDING attempts to settle with the provider before deciding. */
    readonly stale: readonly PaymentRecord[] = [],
  ) {
    super(message);
  }
}

/**
 * The user id of an erased account's payments and memberships: `erased:` and a
 * random uuid, one per account, so its records still belong together (refunds,
 * chargebacks) without naming anybody. Real ids never start with it.
 */
export const ERASED_PREFIX = 'erased:';

/** What erasing one account changed. */
export interface ErasedPayments {
  membershipsCanceled: number;
  payments: number;
}

/** 15 minutes: far longer than a purchase request lives, far shorter than a provider keeps its keys. */
export const DEFAULT_PENDING_TIMEOUT_SECONDS = 900;

export interface PgPaymentsStoreOptions {
  /**
   * A PENDING attempt older than this is stale: it no longer blocks the user's purchases
   * and is settled with the provider. @default DEFAULT_PENDING_TIMEOUT_SECONDS
   */
  pendingTimeoutSeconds?: number;
}

export interface BeginPurchase {
  userId: string;
  idempotencyKey: string;
  requestHash: string;
  plan: PlanRecord;
  /** Upper-cased; validated and reserved inside the purchase transaction. */
  promoCode: string | null;
}

export interface PaymentsPageQuery {
  userId: string;
  first: number;
  /** Exclusive lower bound, from a decoded cursor. */
  after?: { createdAtKey: string; id: string };
}

/** The payments store port. One adapter, on `pg`: real PostgreSQL or embedded PGlite. */
export interface PaymentsStore {
  listPlans(): Promise<PlanRecord[]>;
  /** Plans by id, in key order; null where there is none. */
  plansByIds(ids: readonly string[]): Promise<(PlanRecord | null)[]>;
  /** Of the given users, those with an ACTIVE membership whose period has not ended. */
  premiumUserIds(userIds: readonly string[]): Promise<Set<string>>;
  /** Per user, in key order: the open membership, else the most recent one, else null. */
  currentMemberships(userIds: readonly string[]): Promise<(MembershipRecord | null)[]>;
  membershipById(id: string): Promise<MembershipRecord | null>;
  /**
   * Step one of a purchase, in one transaction serialized per user: returns the
   * attempt already made with this key, or records a new PENDING one.
   */
  beginPurchase(input: BeginPurchase): Promise<{ payment: PaymentRecord; created: boolean }>;
  /** PENDING attempts past the pending timeout, of every user, oldest first. */
  stalePurchases(limit: number): Promise<PaymentRecord[]>;
  /**
   * Step two: settles a PENDING attempt with the provider's answer, exactly once.
   * A success writes one `payments.succeeded` outbox row in the same transaction;
   * a decline or an attempt already settled writes none. Stale attempts settle here
   * too, with what the provider says became of them.
   */
  completePurchase(paymentId: string, result: ChargeResult, plan: PlanRecord): Promise<PaymentRecord>;
  /** Sets cancel_at_period_end on the open membership; null when there is none. */
  cancelAtPeriodEnd(userId: string): Promise<MembershipRecord | null>;
  /**
   * Erases an account inside the caller's transaction (the erasure consumer's, which
   * records the event id with it): open memberships end now, memberships and
   * payments move to a pseudonym (amounts, currency, plan, status, dates and ledger
   * entries stay for accounting; the client's idempotency key and the hash of the
   * card token go), outbox rows name the pseudonym, and the id is marked erased so
   * that beginPurchase refuses it. Idempotent.
   */
  eraseUser(client: PoolClient, userId: string): Promise<ErasedPayments>;
  listPayments(query: PaymentsPageQuery): Promise<PaymentRecord[]>;
}

interface PlanRow {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  billing_interval: PlanRecord['interval'];
}

interface MembershipRow {
  id: string;
  user_id: string;
  plan_id: string;
  status: MembershipRecord['status'];
  current_period_end: Date;
  cancel_at_period_end: boolean;
}

interface PaymentRow {
  id: string;
  user_id: string;
  plan_id: string;
  membership_id: string | null;
  amount_cents: number;
  currency: string;
  status: PaymentRecord['status'];
  failure_reason: string | null;
  request_hash: string;
  created_at: Date;
  created_at_key: string;
}

const toPlan = (row: PlanRow): PlanRecord => ({
  id: row.id,
  name: row.name,
  priceCents: row.price_cents,
  currency: row.currency,
  interval: row.billing_interval,
});

const toMembership = (row: MembershipRow): MembershipRecord => ({
  id: row.id,
  userId: row.user_id,
  planId: row.plan_id,
  status: row.status,
  currentPeriodEnd: row.current_period_end,
  cancelAtPeriodEnd: row.cancel_at_period_end,
});

const toPayment = (row: PaymentRow): PaymentRecord => ({
  id: row.id,
  userId: row.user_id,
  planId: row.plan_id,
  membershipId: row.membership_id,
  amountCents: row.amount_cents,
  currency: row.currency,
  status: row.status,
  failureReason: row.failure_reason,
  requestHash: row.request_hash,
  createdAt: row.created_at,
  createdAtKey: row.created_at_key,
});

const PLAN_COLUMNS = 'id, name, price_cents, currency, billing_interval';
const MEMBERSHIP_COLUMNS = 'id, user_id, plan_id, status, current_period_end, cancel_at_period_end';
// created_at_key keeps the microseconds a JavaScript Date would drop, so cursors are exact.
const PAYMENT_COLUMNS = `id, user_id, plan_id, membership_id, amount_cents, currency, status, failure_reason,
  request_hash, created_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS created_at_key`;

/**
 * A membership is open while its period runs. One whose period is over (canceled at
 * period end, or simply not renewed: there is no renewal yet) is closed lazily, so
 * that the one-open-membership index lets the user buy again.
 */
/** One purchase decision or erasure at a time per user. */
const USER_LOCK = `SELECT pg_advisory_xact_lock(hashtext('payments:user:' || $1))`;

const CLOSE_LAPSED = `UPDATE memberships SET status = 'CANCELED', updated_at = now()
  WHERE user_id = $1 AND status <> 'CANCELED' AND current_period_end <= now()`;

export class PgPaymentsStore implements PaymentsStore {
  private readonly pendingTimeoutSeconds: number;

  constructor(
    private readonly pool: Pool,
    options: PgPaymentsStoreOptions = {},
  ) {
    this.pendingTimeoutSeconds = options.pendingTimeoutSeconds ?? DEFAULT_PENDING_TIMEOUT_SECONDS;
  }

  async listPlans(): Promise<PlanRecord[]> {
    const { rows } = await this.pool.query<PlanRow>(
      `SELECT ${PLAN_COLUMNS} FROM plans WHERE active ORDER BY price_cents, id`,
    );
    return rows.map(toPlan);
  }

  async plansByIds(ids: readonly string[]): Promise<(PlanRecord | null)[]> {
    const { rows } = await this.pool.query<PlanRow>(
      `SELECT ${PLAN_COLUMNS} FROM plans WHERE id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, toPlan(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async premiumUserIds(userIds: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT DISTINCT user_id FROM memberships
        WHERE user_id = ANY($1::text[]) AND status = 'ACTIVE' AND current_period_end > now()`,
      [userIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  async currentMemberships(userIds: readonly string[]): Promise<(MembershipRecord | null)[]> {
    const { rows } = await this.pool.query<MembershipRow>(
      `SELECT DISTINCT ON (user_id) ${MEMBERSHIP_COLUMNS} FROM memberships
        WHERE user_id = ANY($1::text[])
        ORDER BY user_id, (status <> 'CANCELED') DESC, created_at DESC, id DESC`,
      [userIds],
    );
    const byUser = new Map(rows.map((r) => [r.user_id, toMembership(r)]));
    return userIds.map((id) => byUser.get(id) ?? null);
  }

  async membershipById(id: string): Promise<MembershipRecord | null> {
    const { rows } = await this.pool.query<MembershipRow>(
      `SELECT ${MEMBERSHIP_COLUMNS} FROM memberships WHERE id = $1`,
      [id],
    );
    return rows[0] ? toMembership(rows[0]) : null;
  }

  beginPurchase(input: BeginPurchase): Promise<{ payment: PaymentRecord; created: boolean }> {
    return withTransaction(this.pool, async (client) => {
      // One purchase decision at a time per user: the checks below and the insert
      // must not interleave with another request of the same user.
      await client.query(USER_LOCK, [input.userId]);
      const erased = await client.query('SELECT 1 FROM erased_users WHERE user_id = $1', [input.userId]);
      if (erased.rowCount) throw new PurchaseRefused('ACCOUNT_DELETED', 'This account has been deleted.');
      const existing = await client.query<PaymentRow>(
        `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 AND idempotency_key = $2`,
        [input.userId, input.idempotencyKey],
      );
      if (existing.rows[0]) return { payment: toPayment(existing.rows[0]), created: false };

      await client.query(CLOSE_LAPSED, [input.userId]);
      // Pending attempts first, open memberships second: a completion commits between
      // two statements of this transaction (it takes no advisory lock), and it turns
      // PENDING into a membership at once, so the later read sees it if the earlier
      // one missed it. In the other order both reads could miss it.
      const pending = await client.query<PaymentRow & { stale: boolean }>(
        `SELECT ${PAYMENT_COLUMNS}, created_at <= now() - make_interval(secs => $2) AS stale
           FROM payments WHERE user_id = $1 AND status = 'PENDING'`,
        [input.userId, this.pendingTimeoutSeconds],
      );
      const open = await client.query(
        `SELECT 1 FROM memberships WHERE user_id = $1 AND status <> 'CANCELED'`,
        [input.userId],
      );
      if (open.rowCount)
        throw new PurchaseRefused('OPEN_MEMBERSHIP', 'You already have an active membership.');
      const inProgress = 'Another membership purchase is in progress; retry it with its own idempotency key.';
      if (pending.rows.some((r) => !r.stale)) throw new PurchaseRefused('PURCHASE_IN_PROGRESS', inProgress);
      // Settling calls the provider, which must not happen inside this transaction.
      if (pending.rows.length > 0)
        throw new PurchaseRefused('STALE_PURCHASE', inProgress, pending.rows.map(toPayment));

      const amountCents = await this.priceAfterPromo(client, input);
      const inserted = await client.query<PaymentRow>(
        `INSERT INTO payments (user_id, idempotency_key, request_hash, plan_id, promo_code, amount_cents, currency, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING')
         RETURNING ${PAYMENT_COLUMNS}`,
        [
          input.userId,
          input.idempotencyKey,
          input.requestHash,
          input.plan.id,
          input.promoCode,
          amountCents,
          input.plan.currency,
        ],
      );
      return { payment: toPayment(inserted.rows[0]!), created: true };
    });
  }

  async stalePurchases(limit: number): Promise<PaymentRecord[]> {
    const { rows } = await this.pool.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments
        WHERE status = 'PENDING' AND created_at <= now() - make_interval(secs => $1)
        ORDER BY created_at, id LIMIT $2`,
      [this.pendingTimeoutSeconds, limit],
    );
    return rows.map(toPayment);
  }

  /** Validates the promo code and reserves one redemption of it. */
  private async priceAfterPromo(client: PoolClient, input: BeginPurchase): Promise<number> {
    if (!input.promoCode) return input.plan.priceCents;
    const { rows } = await client.query<{ percent_off: number }>(
      `UPDATE promo_codes SET redemptions = redemptions + 1
        WHERE code = $1 AND (valid_until IS NULL OR valid_until > now())
          AND (max_redemptions IS NULL OR redemptions < max_redemptions)
        RETURNING percent_off`,
      [input.promoCode],
    );
    if (!rows[0])
      throw new PurchaseRefused('PROMO_INVALID', 'This promo code is unknown, expired or used up.');
    return Math.round((input.plan.priceCents * (100 - rows[0].percent_off)) / 100);
  }

  completePurchase(paymentId: string, result: ChargeResult, plan: PlanRecord): Promise<PaymentRecord> {
    return withTransaction(this.pool, async (client) => {
      const locked = await client.query<PaymentRow & { promo_code: string | null }>(
        `SELECT ${PAYMENT_COLUMNS}, promo_code FROM payments WHERE id = $1 FOR UPDATE`,
        [paymentId],
      );
      const row = locked.rows[0];
      if (!row) throw new Error(`payment ${paymentId} vanished`);
      // Settled by a concurrent retry of the same request: its outcome stands.
      if (row.status !== 'PENDING') return toPayment(row);

      if (result.status === 'declined') {
        if (row.promo_code) {
          await client.query('UPDATE promo_codes SET redemptions = redemptions - 1 WHERE code = $1', [
            row.promo_code,
          ]);
        }
        const failed = await client.query<PaymentRow>(
          `UPDATE payments SET status = 'FAILED', failure_reason = $2, updated_at = now()
            WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`,
          [paymentId, result.reason],
        );
        return toPayment(failed.rows[0]!);
      }

      // The account was erased while the charge was under way: the money moved and is
      // accounted for, but no membership opens and no event names the account.
      const erased = row.user_id.startsWith(ERASED_PREFIX);
      const membership = erased
        ? undefined
        : await client.query<{ id: string }>(
            `INSERT INTO memberships (user_id, plan_id, status, current_period_end)
             VALUES ($1, $2, 'ACTIVE', now() + CASE WHEN $3 = 'YEAR' THEN interval '1 year' ELSE interval '1 month' END)
             RETURNING id`,
            [row.user_id, plan.id, plan.interval],
          );
      const settled = await client.query<PaymentRow>(
        `UPDATE payments SET status = 'SUCCEEDED', membership_id = $2, provider_ref = $3, updated_at = now()
          WHERE id = $1 RETURNING ${PAYMENT_COLUMNS}`,
        [paymentId, membership?.rows[0]?.id ?? null, result.providerRef],
      );
      // cash in = revenue at list price less the discount given: entries sum to zero.
      const discount = plan.priceCents - row.amount_cents;
      await client.query(
        `INSERT INTO ledger_entries (payment_id, account, amount_cents, currency)
         SELECT $1, account, amount, $2 FROM (VALUES ('cash', $3::int), ('revenue', -$4::int), ('discounts', $5::int)) AS e(account, amount)
          WHERE amount <> 0`,
        [paymentId, row.currency, row.amount_cents, plan.priceCents, discount],
      );
      // Only the transaction that moved the row out of PENDING gets here (FOR UPDATE
      // above), so retries of the request never emit twice. v1 requires a positive
      // amount: a purchase made free by a 100% promo code moved no money and is no
      // payment event (the membership it opened is still stored above).
      if (row.amount_cents > 0 && !erased) {
        await writeOutbox(
          client,
          createEnvelope(
            'payments.succeeded',
            1,
            {
              paymentId,
              userId: row.user_id,
              amountCents: row.amount_cents,
              currency: row.currency,
            },
            { producer: 'payments' },
          ),
        );
      }
      return toPayment(settled.rows[0]!);
    });
  }

  async cancelAtPeriodEnd(userId: string): Promise<MembershipRecord | null> {
    return withTransaction(this.pool, async (client) => {
      await client.query(CLOSE_LAPSED, [userId]);
      const { rows } = await client.query<MembershipRow>(
        `UPDATE memberships SET cancel_at_period_end = true, updated_at = now()
          WHERE user_id = $1 AND status <> 'CANCELED'
          RETURNING ${MEMBERSHIP_COLUMNS}`,
        [userId],
      );
      return rows[0] ? toMembership(rows[0]) : null;
    });
  }

  async eraseUser(client: PoolClient, userId: string): Promise<ErasedPayments> {
    await client.query(USER_LOCK, [userId]);
    await client.query('INSERT INTO erased_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING', [userId]);
    const pseudonym = `${ERASED_PREFIX}${randomUUID()}`;
    // Payments first: this waits for a completePurchase holding one of them, whose
    // membership is then visible to the statements below; a completion after it finds
    // the pseudonym and opens none.
    const payments = await client.query(
      `UPDATE payments SET user_id = $2, idempotency_key = id::text, request_hash = 'erased', updated_at = now()
        WHERE user_id = $1`,
      [userId, pseudonym],
    );
    const open = await client.query(
      `UPDATE memberships SET user_id = $2, status = 'CANCELED', cancel_at_period_end = false,
              current_period_end = least(current_period_end, now()), updated_at = now()
        WHERE user_id = $1 AND status <> 'CANCELED'`,
      [userId, pseudonym],
    );
    await client.query('UPDATE memberships SET user_id = $2 WHERE user_id = $1', [userId, pseudonym]);
    await client.query(
      `UPDATE outbox SET payload = jsonb_set(payload, '{payload,userId}', to_jsonb($2::text))
        WHERE payload->'payload'->>'userId' = $1`,
      [userId, pseudonym],
    );
    return { membershipsCanceled: open.rowCount ?? 0, payments: payments.rowCount ?? 0 };
  }

  async listPayments(query: PaymentsPageQuery): Promise<PaymentRecord[]> {
    const params: unknown[] = [query.userId, query.first];
    let after = '';
    if (query.after) {
      params.push(query.after.createdAtKey, query.after.id);
      after = `AND (created_at, id) < (($3::timestamp AT TIME ZONE 'UTC'), $4::uuid)`;
    }
    const { rows } = await this.pool.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 ${after}
        ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    );
    return rows.map(toPayment);
  }
}
