import { randomUUID } from 'node:crypto';
import { defaultRegistry, type Envelope } from '@fitness/events';
import { createPool, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import {
  assertSingleResult,
  errorCodes,
  pgEngines,
  REFUSED_CHARACTERS,
  type TestDatabase,
} from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { SandboxPaymentProvider } from '../src/datasources/PaymentProvider.js';
import { PgPaymentsStore } from '../src/datasources/PaymentsStore.js';
import { createPaymentsServer } from '../src/server.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('payments-test', 'silent');

const START = `mutation ($input: StartMembershipInput!) {
  startMembership(input: $input) { id status cancelAtPeriodEnd currentPeriodEnd plan { id priceCents interval } }
}`;
const CANCEL = 'mutation { cancelMembership { id status cancelAtPeriodEnd } }';
const ME = `query ($id: ID!, $first: Int, $after: String) {
  _entities(representations: [{ __typename: "User", id: $id }]) {
    ... on User {
      isPremium
      membership { id status plan { id } }
      payments(first: $first, after: $after) {
        edges { cursor node { id amountCents currency status failureReason createdAt } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;

interface Page {
  edges: {
    cursor: string;
    node: { id: string; amountCents: number; status: string; failureReason: string | null };
  }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface Me {
  isPremium: boolean;
  membership: { id: string; status: string; plan: { id: string } } | null;
  payments: Page | null;
}

describe.each(pgEngines('payments memberships', { timescale: false }))('memberships on $name', (engine) => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PgPaymentsStore;
  let provider: SandboxPaymentProvider;
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

  const run = async (query: string, variables: Record<string, unknown>, userId: string | null) => {
    provider ??= new SandboxPaymentProvider();
    return assertSingleResult(
      (
        await server.executeOperation(
          { query, variables },
          { contextValue: createContext({ userId, region: null }, { store, provider, logger }) },
        )
      ).body,
    );
  };
  const start = (userId: string | null, input: Record<string, unknown>) =>
    run(
      START,
      { input: { paymentMethodToken: 'tok_visa', planId: 'premium-monthly-usd', ...input } },
      userId,
    );
  const me = async (userId: string, viewer: string | null = userId, first = 20, after?: string) => {
    const result = await run(ME, { id: userId, first, after }, viewer);
    return { result, user: (result.data?._entities as Me[] | undefined)?.[0] };
  };
  /** The user's payments.succeeded events in the outbox, validated against their schema. */
  const events = async (userId: string) => {
    const { rows } = await pool.query<{ type: string; payload: Envelope }>(
      `SELECT type, payload FROM outbox WHERE payload->'payload'->>'userId' = $1 ORDER BY created_at, id`,
      [userId],
    );
    return rows.map((r) => defaultRegistry.validate(r.payload));
  };
  const fresh = () => {
    provider = new SandboxPaymentProvider();
    return `user-${randomUUID()}`;
  };

  it('should charge once, start an ACTIVE membership and make the user premium', async () => {
    const user = fresh();
    const result = await start(user, { idempotencyKey: 'key-0000001' });
    expect(result.errors).toBeUndefined();
    const membership = result.data?.startMembership as {
      status: string;
      cancelAtPeriodEnd: boolean;
      currentPeriodEnd: string;
    };
    expect(membership).toMatchObject({
      status: 'ACTIVE',
      cancelAtPeriodEnd: false,
      plan: { id: 'premium-monthly-usd' },
    });
    const days = (Date.parse(membership.currentPeriodEnd) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(27);
    expect(days).toBeLessThan(32);
    const { user: view } = await me(user);
    expect(view?.isPremium).toBe(true);
    expect(view?.payments?.edges.map((e) => [e.node.amountCents, e.node.status])).toEqual([
      [999, 'SUCCEEDED'],
    ]);
    expect(provider.chargesMade).toBe(1);
    const [payment] = view!.payments!.edges;
    const emitted = await events(user);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({ type: 'payments.succeeded', version: 1, producer: 'payments' });
    expect(emitted[0]!.payload).toEqual({
      paymentId: payment!.node.id,
      userId: user,
      amountCents: 999,
      currency: 'USD',
    });
    const ledger = await pool.query<{ total: string }>(
      `SELECT sum(l.amount_cents)::text AS total FROM ledger_entries l JOIN payments p ON p.id = l.payment_id WHERE p.user_id = $1`,
      [user],
    );
    expect(ledger.rows[0]?.total).toBe('0');
  });

  it('should return the same membership for a retry and never charge twice', async () => {
    const user = fresh();
    const first = await start(user, { idempotencyKey: 'retry-key-1' });
    const again = await start(user, { idempotencyKey: 'retry-key-1' });
    expect(again.errors).toBeUndefined();
    expect(again.data).toEqual(first.data);
    expect(provider.chargesMade).toBe(1);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [user]);
    expect(rows[0].n).toBe(1);
    expect(await events(user)).toHaveLength(1);
  });

  it('should charge once when the same request arrives 10 times at once', async () => {
    const user = fresh();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => start(user, { idempotencyKey: 'storm-key-1' })),
    );
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    expect(new Set(results.map((r) => (r.data!.startMembership as { id: string }).id)).size).toBe(1);
    expect(provider.chargesMade).toBe(1);
    expect(await events(user)).toHaveLength(1);
  });

  it('should let one of several different purchases at once through, and charge once', async () => {
    const user = fresh();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => start(user, { idempotencyKey: `parallel-key-${i}` })),
    );
    const ok = results.filter((r) => r.errors === undefined);
    expect(ok).toHaveLength(1);
    expect(results.flatMap(errorCodes).every((c) => c === 'CONFLICT')).toBe(true);
    expect(provider.chargesMade).toBe(1);
  });

  it('should refuse a reused key with a different request and a second open membership', async () => {
    const user = fresh();
    await start(user, { idempotencyKey: 'reuse-key-1' });
    const other = await start(user, { idempotencyKey: 'reuse-key-1', planId: 'premium-yearly-usd' });
    expect(errorCodes(other)).toEqual(['CONFLICT']);
    expect(other.errors?.[0]?.message).toMatch(/different request/);
    const second = await start(user, { idempotencyKey: 'reuse-key-2', planId: 'premium-yearly-usd' });
    expect(errorCodes(second)).toEqual(['CONFLICT']);
    expect(second.errors?.[0]?.message).toBe('You already have an active membership.');
  });

  it('should answer a declined card with PAYMENT_DECLINED, record it, and answer a retry the same way', async () => {
    const user = fresh();
    const declined = await start(user, {
      idempotencyKey: 'declined-1',
      paymentMethodToken: 'tok_chargeDeclined',
    });
    expect(errorCodes(declined)).toEqual(['PAYMENT_DECLINED']);
    expect(declined.errors?.[0]?.message).toBe('Your card was declined.');
    const retry = await start(user, {
      idempotencyKey: 'declined-1',
      paymentMethodToken: 'tok_chargeDeclined',
    });
    expect(errorCodes(retry)).toEqual(['PAYMENT_DECLINED']);
    expect(provider.chargesMade).toBe(1);
    expect(await events(user)).toEqual([]);
    const { user: view } = await me(user);
    expect(view?.isPremium).toBe(false);
    expect(view?.membership).toBeNull();
    expect(view?.payments?.edges.map((e) => [e.node.status, e.node.failureReason])).toEqual([
      ['FAILED', 'Your card was declined.'],
    ]);
    // A new attempt with a working card goes through.
    const ok = await start(user, { idempotencyKey: 'declined-2' });
    expect(ok.errors).toBeUndefined();
    expect((await events(user)).map((e) => e.type)).toEqual(['payments.succeeded']);
  });

  it('should apply a promo code and keep the ledger balanced', async () => {
    const user = fresh();
    const result = await start(user, { idempotencyKey: 'promo-key-1', promoCode: 'welcome10' });
    expect(result.errors).toBeUndefined();
    const { user: view } = await me(user);
    expect(view?.payments?.edges[0]?.node.amountCents).toBe(899);
    const { rows } = await pool.query<{ account: string; amount_cents: number }>(
      `SELECT l.account, l.amount_cents FROM ledger_entries l JOIN payments p ON p.id = l.payment_id
        WHERE p.user_id = $1 ORDER BY account`,
      [user],
    );
    expect(rows).toEqual([
      { account: 'cash', amount_cents: 899 },
      { account: 'discounts', amount_cents: 100 },
      { account: 'revenue', amount_cents: -999 },
    ]);
    // The event carries what was charged, not the list price.
    expect((await events(user)).map((e) => e.payload)).toEqual([
      expect.objectContaining({ amountCents: 899, currency: 'USD' }),
    ]);
  });

  it('should write no payments.succeeded event for a purchase a 100% promo code made free', async () => {
    const user = fresh();
    const code = `FREE-${randomUUID().slice(0, 8).toUpperCase()}`;
    await pool.query('INSERT INTO promo_codes (code, percent_off) VALUES ($1, 100)', [code]);
    const result = await start(user, { idempotencyKey: 'free-key-1', promoCode: code });
    expect(result.errors).toBeUndefined();
    expect((await me(user)).user?.payments?.edges.map((e) => [e.node.amountCents, e.node.status])).toEqual([
      [0, 'SUCCEEDED'],
    ]);
    expect(await events(user)).toEqual([]);
  });

  it('should refuse bad input with BAD_USER_INPUT or NOT_FOUND and anonymous callers with UNAUTHENTICATED', async () => {
    const user = fresh();
    const cases = [
      await start(user, { idempotencyKey: 'short' }),
      await start(user, { idempotencyKey: 'bad key with spaces' }),
      await start(user, { idempotencyKey: 'token-key-1', paymentMethodToken: 'tok_unknown' }),
      await start(user, { idempotencyKey: 'promo-key-x', promoCode: 'NOPE' }),
      await start(user, { idempotencyKey: 'promo-key-y', promoCode: "' OR 1=1 --" }),
      await start(user, { idempotencyKey: 'plan-key-1', planId: 'no-such-plan' }),
      await start(null, { idempotencyKey: 'anon-key-1' }),
      await run(CANCEL, {}, null),
    ];
    expect(cases.map((c) => errorCodes(c)[0])).toEqual([
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'NOT_FOUND',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
    ]);
    expect(provider.chargesMade).toBe(0);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [user]);
    expect(rows[0].n).toBe(0);
  });

  const badCharacters = REFUSED_CHARACTERS.flatMap(([name, c]) => [
    ['promoCode', name, { promoCode: `SPRING${c}` }] as const,
    ['idempotencyKey', name, { idempotencyKey: `key-0000${c}` }] as const,
    ['planId', name, { planId: `premium-monthly-usd${c}` }] as const,
    ['paymentMethodToken', name, { paymentMethodToken: `tok_visa${c}` }] as const,
  ]);
  it.each(badCharacters)(
    'should refuse %s with %s as BAD_USER_INPUT naming it',
    async (argument, _, patch) => {
      const user = fresh();
      const result = await start(user, { idempotencyKey: 'text-key-1', ...patch });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argument });
      expect(result.errors?.[0]?.message).toMatch(/control or invisible characters|unpaired surrogate/);
      expect(provider.chargesMade).toBe(0);
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [user]);
      expect(rows[0].n).toBe(0);
    },
  );

  it('should cancel at period end, keep the user premium until then, and be idempotent', async () => {
    const user = fresh();
    expect(errorCodes(await run(CANCEL, {}, user))).toEqual(['NOT_FOUND']);
    await start(user, { idempotencyKey: 'cancel-key-1' });
    const canceled = await run(CANCEL, {}, user);
    expect(canceled.data?.cancelMembership).toMatchObject({ status: 'ACTIVE', cancelAtPeriodEnd: true });
    const twice = await run(CANCEL, {}, user);
    expect(twice.data).toEqual(canceled.data);
    expect((await me(user)).user?.isPremium).toBe(true);
    // Once the period is over the membership closes, and the user may buy again.
    await pool.query(
      `UPDATE memberships SET current_period_end = now() - interval '1 second' WHERE user_id = $1`,
      [user],
    );
    expect((await me(user)).user?.isPremium).toBe(false);
    const again = await start(user, { idempotencyKey: 'cancel-key-2' });
    expect(again.errors).toBeUndefined();
    const { user: view } = await me(user);
    expect(view?.membership?.status).toBe('ACTIVE');
    expect(view?.isPremium).toBe(true);
  });

  it('should let a member whose period ran out without renewal buy again', async () => {
    const user = fresh();
    await start(user, { idempotencyKey: 'lapse-key-1' });
    await pool.query(
      `UPDATE memberships SET current_period_end = now() - interval '1 day' WHERE user_id = $1`,
      [user],
    );
    expect((await me(user)).user?.isPremium).toBe(false);
    const again = await start(user, { idempotencyKey: 'lapse-key-2' });
    expect(again.errors).toBeUndefined();
    expect((await me(user)).user).toMatchObject({ isPremium: true, membership: { status: 'ACTIVE' } });
  });

  it('should page payments newest first with stable cursors', async () => {
    const user = fresh();
    for (let i = 0; i < 5; i += 1) {
      await start(user, { idempotencyKey: `page-key-${i}`, paymentMethodToken: 'tok_chargeDeclined' });
    }
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const { user: view } = await me(user, user, 2, after);
      const page = view?.payments as Page;
      seen.push(...page.edges.map((e) => e.node.id));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor ?? undefined;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id FROM payments WHERE user_id = $1 ORDER BY created_at DESC, id DESC',
      [user],
    );
    expect(seen).toEqual(rows.map((r) => r.id));
    const bad = await me(user, user, 2, 'bm90LWEtY3Vyc29y');
    expect(errorCodes(bad.result)).toEqual(['BAD_USER_INPUT']);
    const impossible = Buffer.from(`2024-13-45T99:99:99.000000|${seen[0]}`).toString('base64url');
    expect(errorCodes((await me(user, user, 2, impossible)).result)).toEqual(['BAD_USER_INPUT']);
    // Base64url decoding would skip the character and read the cursor as valid.
    const cursor = (await me(user, user, 2)).user!.payments!.pageInfo.endCursor!;
    for (const [, c] of REFUSED_CHARACTERS) {
      const { result } = await me(user, user, 2, `${cursor}${c}`);
      expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'after' });
    }
    const tooMany = await me(user, user, 101);
    expect(errorCodes(tooMany.result)).toEqual(['BAD_USER_INPUT']);
  });

  it('should keep membership and payments to their owner', async () => {
    const owner = fresh();
    await start(owner, { idempotencyKey: 'owner-key-1' });
    for (const viewer of ['someone-else', null]) {
      const { result, user } = await me(owner, viewer);
      expect(user).toMatchObject({ isPremium: true, membership: null, payments: null });
      expect(errorCodes(result)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    }
  });
});
