import { createPool, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, pgEngines, type TestDatabase } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { SandboxPaymentProvider } from '../src/datasources/PaymentProvider.js';
import { PgPaymentsStore } from '../src/datasources/PaymentsStore.js';
import { createPaymentsServer } from '../src/server.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('payments-test', 'silent');

describe.each(pgEngines('payments store', { timescale: false }))('payments on $name', (engine) => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PgPaymentsStore;
  const provider = new SandboxPaymentProvider();
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

  const run = async (query: string, variables: Record<string, unknown> = {}, userId: string | null = null) =>
    assertSingleResult(
      (
        await server.executeOperation(
          { query, variables },
          { contextValue: createContext({ userId, region: null }, { store, provider, logger }) },
        )
      ).body,
    );

  it('should apply migrations idempotently', async () => {
    const again = await migrate(pool, { dir: migrationsDir, engine: 'postgres', logger });
    expect(again.applied).toEqual([]);
  });

  it('should list the seeded plans cheapest first', async () => {
    const result = await run('{ plans { id name priceCents currency interval } }');
    expect(result.errors).toBeUndefined();
    const plans = (result.data as { plans: { priceCents: number; currency: string }[] }).plans;
    expect(plans.length).toBeGreaterThanOrEqual(4);
    expect(plans.map((p) => p.priceCents)).toEqual([...plans.map((p) => p.priceCents)].sort((a, b) => a - b));
    expect(plans.every((p) => /^[A-Z]{3}$/.test(p.currency))).toBe(true);
  });

  it('should answer isPremium for users with and without an active membership', async () => {
    await pool.query(
      `INSERT INTO memberships (user_id, plan_id, status, current_period_end) VALUES
        ('u-active', 'premium-monthly-usd', 'ACTIVE', now() + interval '10 days'),
        ('u-lapsed', 'premium-monthly-usd', 'ACTIVE', now() - interval '1 day'),
        ('u-canceled', 'premium-monthly-usd', 'CANCELED', now() + interval '10 days')`,
    );
    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id isPremium } } }`,
      {
        reps: ['u-active', 'u-lapsed', 'u-canceled', 'u-none'].map((id) => ({ __typename: 'User', id })),
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: 'u-active', isPremium: true },
      { id: 'u-lapsed', isPremium: false },
      { id: 'u-canceled', isPremium: false },
      { id: 'u-none', isPremium: false },
    ]);
  });

  it('should refuse a second open membership for one user', async () => {
    await expect(
      pool.query(
        `INSERT INTO memberships (user_id, plan_id, status, current_period_end)
         VALUES ('u-active', 'premium-yearly-usd', 'ACTIVE', now() + interval '1 year')`,
      ),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('should resolve Plan entities in key order, null for unknown ids', async () => {
    const result = await run(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Plan { id name } } }`,
      {
        reps: [
          { __typename: 'Plan', id: 'premium-yearly-eur' },
          { __typename: 'Plan', id: 'nope' },
          { __typename: 'Plan', id: 'premium-monthly-usd' },
        ],
      },
    );
    expect(result.data?._entities).toEqual([
      { id: 'premium-yearly-eur', name: 'Premium Yearly' },
      null,
      { id: 'premium-monthly-usd', name: 'Premium Monthly' },
    ]);
  });

  it('should expose its SDL through _service', async () => {
    const result = await run('{ _service { sdl } }');
    const sdl = (result.data as { _service: { sdl: string } })._service.sdl;
    expect(sdl).toMatch(/type Plan\s+@key\(fields: "id"\)/);
    // Nullable: a payments outage costs only this field, not the whole user.
    expect(sdl).toMatch(/isPremium: Boolean\n/);
  });
});
