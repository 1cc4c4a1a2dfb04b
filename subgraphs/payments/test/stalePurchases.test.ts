import { randomUUID } from 'node:crypto';
import { defaultRegistry, type Envelope } from '@fitness/events';
import { createPool, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, pgEngines, type TestDatabase } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import type { ChargeRequest, ChargeResult } from '../src/datasources/PaymentProvider.js';
import { SandboxPaymentProvider } from '../src/datasources/PaymentProvider.js';
import { DEFAULT_PENDING_TIMEOUT_SECONDS, PgPaymentsStore } from '../src/datasources/PaymentsStore.js';
import {
  EXPIRED_REASON,
  startStalePurchaseSweeper,
  sweepStalePurchases,
} from '../src/datasources/stalePurchases.js';
import { createPaymentsServer } from '../src/server.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('payments-test', 'silent');

const START = `mutation ($input: StartMembershipInput!) {
  startMembership(input: $input) { id status }
}`;

/**
 * The sandbox, with a process that dies around the provider call: `before` the
 * request reaches the provider, or `after` the provider charged but before the
 * attempt was recorded as settled.
 */
class DyingProvider extends SandboxPaymentProvider {
  dies: 'before' | 'after' | null = null;

  override async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (this.dies === 'before') throw new Error('process died before the charge');
    const result = await super.charge(request);
    if (this.dies === 'after') throw new Error('process died after the charge');
    return result;
  }
}

interface PaymentRow {
  id: string;
  status: string;
  failure_reason: string | null;
  provider_ref: string | null;
}

describe.each(pgEngines('payments stale purchases', { timescale: false }))(
  'stale purchases on $name',
  (engine) => {
    let db: TestDatabase;
    let pool: Pool;
    let store: PgPaymentsStore;
    const server = createPaymentsServer(logger);

    beforeAll(async () => {
      db = await engine.create();
      pool = createPool(db.url);
      await migrate(pool, { dir: migrationsDir, engine: 'postgres', logger });
      store = new PgPaymentsStore(pool);
      await server.start();
    });

    afterAll(async () => {
      await server.stop();
      await pool.end();
      await db.close();
    });

    const start = async (
      provider: SandboxPaymentProvider,
      userId: string,
      idempotencyKey: string,
      extra: Record<string, unknown> = {},
    ) =>
      assertSingleResult(
        (
          await server.executeOperation(
            {
              query: START,
              variables: {
                input: {
                  planId: 'premium-monthly-usd',
                  paymentMethodToken: 'tok_visa',
                  idempotencyKey,
                  ...extra,
                },
              },
            },
            { contextValue: createContext({ userId, region: null }, { store, provider, logger }) },
          )
        ).body,
      );
    /** A purchase whose process died around the charge, left PENDING. */
    const diedPurchase = async (
      provider: DyingProvider,
      dies: 'before' | 'after',
      extra: Record<string, unknown> = {},
    ) => {
      const user = `user-${randomUUID()}`;
      provider.dies = dies;
      const died = await start(provider, user, 'first-key-1', extra);
      provider.dies = null;
      expect(errorCodes(died)).toEqual(['INTERNAL_SERVER_ERROR']);
      const [attempt] = await payments(user);
      expect(attempt?.status).toBe('PENDING');
      return { user, attemptId: attempt!.id };
    };
    /** As if the attempt had waited past the pending timeout. */
    const age = (userId: string) =>
      pool.query(
        `UPDATE payments SET created_at = created_at - make_interval(secs => $2 + 1)
          WHERE user_id = $1 AND status = 'PENDING'`,
        [userId, DEFAULT_PENDING_TIMEOUT_SECONDS],
      );
    const payments = async (userId: string) =>
      (
        await pool.query<PaymentRow>(
          'SELECT id, status, failure_reason, provider_ref FROM payments WHERE user_id = $1 ORDER BY created_at, id',
          [userId],
        )
      ).rows;
    const memberships = async (userId: string) =>
      (await pool.query<{ status: string }>('SELECT status FROM memberships WHERE user_id = $1', [userId]))
        .rows;
    const events = async (userId: string) => {
      const { rows } = await pool.query<{ payload: Envelope }>(
        `SELECT payload FROM outbox WHERE payload->'payload'->>'userId' = $1 ORDER BY created_at, id`,
        [userId],
      );
      return rows.map((r) => defaultRegistry.validate(r.payload));
    };

    it('should still refuse a new purchase while a PENDING attempt is within the timeout', async () => {
      const provider = new DyingProvider();
      const { user } = await diedPurchase(provider, 'before');
      const second = await start(provider, user, 'second-key-1');
      expect(errorCodes(second)).toEqual(['CONFLICT']);
      expect(provider.chargesMade).toBe(0);
    });

    it('should expire a stale attempt the provider never charged, give back its promo code and let a new purchase through', async () => {
      const provider = new DyingProvider();
      const code = `ONCE-${randomUUID().slice(0, 8).toUpperCase()}`;
      await pool.query('INSERT INTO promo_codes (code, percent_off, max_redemptions) VALUES ($1, 10, 1)', [
        code,
      ]);
      const { user, attemptId } = await diedPurchase(provider, 'before', { promoCode: code });
      await age(user);

      const next = await start(provider, user, 'second-key-1', { promoCode: code });
      expect(next.errors).toBeUndefined();
      expect(next.data?.startMembership).toMatchObject({ status: 'ACTIVE' });
      const [expired, paid] = await payments(user);
      expect(expired).toMatchObject({ id: attemptId, status: 'FAILED', failure_reason: EXPIRED_REASON });
      expect(paid?.status).toBe('SUCCEEDED');
      expect(provider.chargesMade).toBe(1);
      expect((await events(user)).map((e) => (e.payload as { paymentId: string }).paymentId)).toEqual([
        paid!.id,
      ]);

      // The voided key is never charged, even when its own client finally retries.
      const late = await start(provider, user, 'first-key-1', { promoCode: code });
      expect(errorCodes(late)).toEqual(['PAYMENT_DECLINED']);
      expect(late.errors?.[0]?.message).toBe(EXPIRED_REASON);
      expect(provider.chargesMade).toBe(1);
    });

    it('should complete a stale attempt the provider did charge, exactly as the normal path, without charging again', async () => {
      const provider = new DyingProvider();
      const { user, attemptId } = await diedPurchase(provider, 'after');
      expect(provider.chargesMade).toBe(1);
      await age(user);

      const next = await start(provider, user, 'second-key-1');
      expect(errorCodes(next)).toEqual(['CONFLICT']);
      expect(next.errors?.[0]?.message).toBe('You already have an active membership.');
      const rows = await payments(user);
      expect(rows).toEqual([expect.objectContaining({ id: attemptId, status: 'SUCCEEDED' })]);
      expect(rows[0]?.provider_ref).toMatch(/^ch_sandbox_/);
      expect(await memberships(user)).toEqual([{ status: 'ACTIVE' }]);
      const emitted = await events(user);
      expect(emitted).toHaveLength(1);
      expect(emitted[0]).toMatchObject({ type: 'payments.succeeded', producer: 'payments' });
      expect(emitted[0]!.payload).toEqual({
        paymentId: attemptId,
        userId: user,
        amountCents: 999,
        currency: 'USD',
      });
      const ledger = await pool.query<{ total: string }>(
        'SELECT sum(amount_cents)::text AS total FROM ledger_entries WHERE payment_id = $1',
        [attemptId],
      );
      expect(ledger.rows[0]?.total).toBe('0');
      // The original client's retry gets the membership it paid for.
      const retry = await start(provider, user, 'first-key-1');
      expect(retry.data?.startMembership).toMatchObject({ status: 'ACTIVE' });
      expect(provider.chargesMade).toBe(1);
      expect(await events(user)).toHaveLength(1);
    });

    it.each(['before', 'after'] as const)(
      'should charge once when new purchases, a retry of the original key and the sweeper race (died %s the charge)',
      async (dies) => {
        const provider = new DyingProvider();
        const { user } = await diedPurchase(provider, dies);
        await age(user);
        const charged = provider.chargesMade;

        const sweep = sweepStalePurchases(store, provider, logger);
        const answers = await Promise.all([
          start(provider, user, 'second-key-1'),
          start(provider, user, 'first-key-1'),
          start(provider, user, 'third-key-1'),
          start(provider, user, 'first-key-1'),
        ]);
        expect((await sweep).failed).toBe(0);
        expect(answers.filter((r) => r.errors === undefined).length).toBeGreaterThanOrEqual(1);
        expect(answers.flatMap(errorCodes).every((c) => c === 'CONFLICT' || c === 'PAYMENT_DECLINED')).toBe(
          true,
        );
        expect(provider.chargesMade).toBe(1);
        expect(charged).toBe(dies === 'after' ? 1 : 0);
        const rows = await payments(user);
        expect(rows.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(1);
        expect(rows.filter((r) => r.status === 'PENDING')).toEqual([]);
        expect(await memberships(user)).toEqual([{ status: 'ACTIVE' }]);
        expect(await events(user)).toHaveLength(1);
      },
    );

    it('should settle the stale attempts of users who never come back, and leave fresh ones alone', async () => {
      const provider = new DyingProvider();
      const never = await diedPurchase(provider, 'before');
      const paid = await diedPurchase(provider, 'after');
      const fresh = await diedPurchase(provider, 'before');
      await age(never.user);
      await age(paid.user);

      const sweeper = startStalePurchaseSweeper({ store, provider, logger, intervalMs: 20 });
      await expect
        .poll(async () => [(await payments(never.user))[0]?.status, (await payments(paid.user))[0]?.status])
        .toEqual(['FAILED', 'SUCCEEDED']);
      await sweeper.stop();
      expect((await payments(fresh.user))[0]?.status).toBe('PENDING');
      expect(await memberships(paid.user)).toEqual([{ status: 'ACTIVE' }]);
      expect(await events(paid.user)).toHaveLength(1);
      expect(await events(never.user)).toEqual([]);
      expect(provider.chargesMade).toBe(1);
      // A second pass finds nothing left to settle of these users.
      const again = await store.stalePurchases(1_000);
      expect(again.map((p) => p.userId)).not.toContain(never.user);
      expect(again.map((p) => p.userId)).not.toContain(paid.user);
    });

    it('should skip an attempt the provider cannot answer for, settle the others, and settle it at a later pass', async () => {
      const provider = new DyingProvider();
      const unreachable = await diedPurchase(provider, 'before');
      const answered = await diedPurchase(provider, 'before');
      await age(unreachable.user);
      await age(answered.user);
      const lookUp = provider.lookupOrVoid.bind(provider);
      let down = true;
      provider.lookupOrVoid = async (key) => {
        if (down && key === unreachable.attemptId) throw new Error('provider timed out');
        return lookUp(key);
      };
      expect(await sweepStalePurchases(store, provider, logger)).toMatchObject({ failed: 1 });
      expect((await payments(unreachable.user))[0]?.status).toBe('PENDING');
      expect((await payments(answered.user))[0]?.status).toBe('FAILED');
      down = false;
      expect(await sweepStalePurchases(store, provider, logger)).toMatchObject({ failed: 0 });
      expect((await payments(unreachable.user))[0]?.status).toBe('FAILED');
    });
  },
);
