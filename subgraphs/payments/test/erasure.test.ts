import { randomUUID } from 'node:crypto';
import { usersDeletedEvent as deletedEvent, InProcessEventBus } from '@fitness/events';
import { createPool, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, pgEngines, type TestDatabase, waitFor } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPaymentsErasure } from '../src/accounts/erasure.js';
import { createContext } from '../src/context.js';
import { SandboxPaymentProvider } from '../src/datasources/PaymentProvider.js';
import { ERASED_PREFIX, PgPaymentsStore } from '../src/datasources/PaymentsStore.js';
import { createPaymentsServer } from '../src/server.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('payments-erasure-test', 'silent');

const START = `mutation ($input: StartMembershipInput!) { startMembership(input: $input) { id status } }`;

describe.each(pgEngines('payments account erasure', { timescale: false }))(
  'payments erasure on $name',
  (engine) => {
    let db: TestDatabase;
    let pool: Pool;
    let store: PgPaymentsStore;
    const provider = new SandboxPaymentProvider();
    const server = createPaymentsServer(logger);
    const bus = new InProcessEventBus();
    let erasure: Awaited<ReturnType<typeof startPaymentsErasure>>;

    beforeAll(async () => {
      db = await engine.create();
      pool = createPool(db.url);
      await migrate(pool, { dir: migrationsDir, engine: 'postgres', logger });
      store = new PgPaymentsStore(pool);
      await server.start();
      erasure = await startPaymentsErasure({ bus, pool, store, logger });
    });
    afterAll(async () => {
      await erasure.stop();
      await bus.close();
      await server.stop();
      await pool.end();
      await db.close();
    });

    const start = async (userId: string, input: Record<string, unknown> = {}) =>
      assertSingleResult(
        (
          await server.executeOperation(
            {
              query: START,
              variables: {
                input: {
                  paymentMethodToken: 'tok_visa',
                  planId: 'premium-monthly-usd',
                  idempotencyKey: randomUUID(),
                  ...input,
                },
              },
            },
            { contextValue: createContext({ userId, region: null }, { store, provider, logger }) },
          )
        ).body,
      );

    /** Everything stored about payments, as an accountant would list it. */
    const books = async () => {
      const { rows } = await pool.query(
        `SELECT p.id, p.user_id, p.idempotency_key, p.request_hash, p.plan_id, p.membership_id, p.amount_cents,
              p.currency, p.status, p.provider_ref, p.created_at,
              (SELECT json_agg(json_build_object('account', account, 'amount', amount_cents) ORDER BY id)
                 FROM ledger_entries l WHERE l.payment_id = p.id) AS ledger
         FROM payments p ORDER BY p.created_at, p.id`,
      );
      return rows;
    };
    const membershipsOf = async (userId: string) =>
      (await pool.query('SELECT * FROM memberships WHERE user_id = $1', [userId])).rows;

    it('should cancel the open membership at once and keep the amounts without anything that names the account', async () => {
      const gone = `gone-${randomUUID().slice(0, 8)}`;
      const kept = `kept-${randomUUID().slice(0, 8)}`;
      expect((await start(gone)).errors).toBeUndefined();
      expect(errorCodes(await start(gone, { paymentMethodToken: 'tok_chargeDeclined' }))).toEqual([
        'CONFLICT',
      ]);
      expect((await start(kept)).errors).toBeUndefined();
      const before = await books();
      const [membership] = await membershipsOf(gone);

      await bus.publish(deletedEvent(gone));
      await waitFor(async () => (await membershipsOf(gone)).length === 0, 'the erasure');

      expect(await store.currentMemberships([gone])).toEqual([null]);
      expect(await store.premiumUserIds([gone, kept])).toEqual(new Set([kept]));
      expect(await store.listPayments({ userId: gone, first: 10 })).toEqual([]);
      const after = await books();
      const erasedRows = after.filter((r) => r.user_id.startsWith(ERASED_PREFIX));
      expect(erasedRows).toHaveLength(before.filter((r) => r.user_id === gone).length);
      for (const row of erasedRows) {
        const was = before.find((r) => r.id === row.id)!;
        // Accounting keeps what money moved, when and for what.
        expect(row).toEqual({
          ...was,
          user_id: row.user_id,
          idempotency_key: row.id,
          request_hash: 'erased',
        });
      }
      expect(new Set(erasedRows.map((r) => r.user_id)).size).toBe(1);
      expect(after.filter((r) => !r.user_id.startsWith(ERASED_PREFIX))).toEqual(
        before.filter((r) => r.user_id !== gone),
      );
      const { rows } = await pool.query('SELECT status, current_period_end FROM memberships WHERE id = $1', [
        membership.id,
      ]);
      expect(rows[0].status).toBe('CANCELED');
      expect(rows[0].current_period_end.getTime()).toBeLessThanOrEqual(Date.now());
      const outbox = await pool.query(
        `SELECT count(*)::int AS n FROM outbox WHERE payload->'payload'->>'userId' = $1`,
        [gone],
      );
      expect(outbox.rows[0].n).toBe(0);
    });

    it('should refuse a purchase of an erased account, and change nothing on a replayed event', async () => {
      const gone = `gone-${randomUUID().slice(0, 8)}`;
      await start(gone);
      await bus.publish(deletedEvent(gone));
      await waitFor(async () => (await membershipsOf(gone)).length === 0, 'the erasure');
      const snapshot = {
        books: await books(),
        memberships: (await pool.query('SELECT * FROM memberships ORDER BY id')).rows,
      };
      expect(errorCodes(await start(gone))).toEqual(['UNAUTHENTICATED']);
      const processed = (await erasure.metrics()).processed;
      await bus.publish(deletedEvent(gone));
      await waitFor(async () => (await erasure.metrics()).processed === processed + 1, 'the replay');
      expect({
        books: await books(),
        memberships: (await pool.query('SELECT * FROM memberships ORDER BY id')).rows,
      }).toEqual(snapshot);
    });

    it('should settle a charge under way when the account went without opening a membership', async () => {
      const gone = `gone-${randomUUID().slice(0, 8)}`;
      const [plan] = await store.plansByIds(['premium-monthly-usd']);
      const { payment } = await store.beginPurchase({
        userId: gone,
        idempotencyKey: randomUUID(),
        requestHash: 'h',
        plan: plan!,
        promoCode: null,
      });
      await bus.publish(deletedEvent(gone));
      await waitFor(
        async () => (await store.listPayments({ userId: gone, first: 1 })).length === 0,
        'the erasure',
      );
      const settled = await store.completePurchase(
        payment.id,
        { status: 'succeeded', providerRef: 'ch_1' },
        plan!,
      );
      expect(settled).toMatchObject({
        status: 'SUCCEEDED',
        membershipId: null,
        amountCents: plan!.priceCents,
      });
      expect(settled.userId.startsWith(ERASED_PREFIX)).toBe(true);
      const outbox = await pool.query(
        `SELECT count(*)::int AS n FROM outbox WHERE payload->'payload'->>'paymentId' = $1`,
        [payment.id],
      );
      expect(outbox.rows[0].n).toBe(0);
    });
  },
);
