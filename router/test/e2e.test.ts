import { randomBytes, randomUUID } from 'node:crypto';
import {
  CancelMembershipDocument,
  DashboardDocument,
  ExercisesDocument,
  LogWorkoutDocument,
  MeDocument,
  MyBillingDocument,
  PlansDocument,
  SignInDocument,
  SignUpDocument,
  StartMembershipDocument,
  UserByHandleDocument,
} from '@fitness/client';
import {
  bearer,
  createTestDatabase,
  execute,
  mongoUrlWithOwnDatabase,
  postGraphQL,
  realService,
} from '@fitness/testing';
import { type Stack, startStack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The whole supergraph as it runs in production: four subgraph processes and the
 * router, real HTTP between them, real PostgreSQL for payments and real Redis for
 * recommendations (embedded TimescaleDB for workouts; MongoDB when MONGODB_URL is set).
 */
describe('supergraph end to end', () => {
  let stack: Stack;
  let dropPayments: (() => Promise<void>) | undefined;
  let url: string;
  const suffix = randomBytes(3).toString('hex');
  // Known here, so the tests that call a subgraph directly can be the router.
  const routerSecret = randomBytes(32).toString('hex');

  beforeAll(async () => {
    const postgres = realService('postgres', 'e2e payments database');
    const redis = realService('redis', 'e2e recommendations cache');
    const payments = postgres ? await createTestDatabase(postgres) : undefined;
    dropPayments = payments?.drop;
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: randomBytes(32).toString('hex'),
        ROUTER_SUBGRAPH_SECRET: routerSecret,
        APOLLO_TELEMETRY_DISABLED: 'true',
      },
      serviceEnv: {
        payments: payments ? { PAYMENTS_DATABASE_URL: payments.url } : { PAYMENTS_DATA_DIR: 'memory://' },
        workouts: { WORKOUTS_DATA_DIR: 'memory://' },
        recommendations: { REDIS_URL: redis },
        users: {
          MONGODB_URL:
            process.env.MONGODB_URL && mongoUrlWithOwnDatabase(process.env.MONGODB_URL, 'e2e-supergraph'),
          USERS_DATA_DIR: 'memory://',
        },
      },
    });
    url = stack.routerUrl;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await dropPayments?.();
  });

  const signUp = async (handle: string) => {
    const { status, body } = await execute(url, SignUpDocument, {
      input: {
        email: `${handle}@example.com`,
        password: 'correct horse battery',
        handle,
        displayName: `${handle} Tester`,
        region: 'EU',
      },
    });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    return body.data!.signUp;
  };

  it('should sign up, sign in, log a workout and read one query that spans all four subgraphs', async () => {
    const alice = await signUp(`alice_${suffix}`);
    expect(alice.user.email).toBe(`alice_${suffix}@example.com`);

    const wrong = await execute(url, SignInDocument, {
      input: { email: `alice_${suffix}@example.com`, password: 'wrong password!' },
    });
    expect(wrong.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const signedIn = await execute(url, SignInDocument, {
      input: { email: `ALICE_${suffix}@example.com`, password: 'correct horse battery' },
    });
    expect(signedIn.body.errors).toBeUndefined();
    const token = signedIn.body.data!.signIn.token;

    const me = await execute(url, MeDocument, {}, token);
    expect(me.body.data?.me).toMatchObject({ id: alice.user.id, region: 'EU', followersCount: 0 });

    const catalogue = await execute(url, ExercisesDocument, { muscleGroup: 'CHEST' });
    const bench = catalogue.body.data!.exercises![0]!;
    expect(bench.muscleGroup).toBe('CHEST');

    const workoutId = randomUUID();
    const logged = await execute(
      url,
      LogWorkoutDocument,
      {
        input: {
          id: workoutId,
          sport: 'STRENGTH',
          title: 'Push day',
          startedAt: new Date(Date.now() - 3600_000).toISOString(),
          durationSec: 3600,
          sets: [
            { exerciseId: bench.id, reps: 10, weightKg: 60 },
            { exerciseId: bench.id, reps: 8, weightKg: 70 },
          ],
        },
      },
      token,
    );
    expect(logged.body.errors).toBeUndefined();
    expect(logged.body.data!.logWorkout).toMatchObject({
      id: workoutId,
      volumeKg: 1160,
      user: { id: alice.user.id, handle: `alice_${suffix}` },
    });
    expect(logged.body.data!.logWorkout.sets[0]!.exercise.name).toBe(bench.name);

    const dashboard = await execute(url, DashboardDocument, {}, token);
    expect(dashboard.body.errors).toBeUndefined();
    const data = dashboard.body.data!;
    expect(data.me?.handle).toBe(`alice_${suffix}`); // users
    expect(data.me?.workouts?.edges.map((e) => e.node.id)).toEqual([workoutId]); // workouts
    expect(data.me?.isPremium).toBe(false); // payments
    expect(data.plans?.length).toBeGreaterThan(0); // payments
    expect(data.me?.recommendations?.length).toBeGreaterThan(0); // recommendations, from workouts' data
    // Chest was trained an hour ago: no advice to train it.
    expect(
      data.me?.recommendations?.some((r) => r.id.includes('CHEST') && r.kind === 'TRAIN_MUSCLE_GROUP'),
    ).toBe(false);
  });

  it("should keep another user's self-only fields out of reach", async () => {
    const bob = await signUp(`bob_${suffix}`);
    const carol = await signUp(`carol_${suffix}`);
    const { body } = await postGraphQL(
      url,
      'query ($h: String!) { userByHandle(handle: $h) { handle email workouts { edges { cursor } } recommendations { id } isPremium } }',
      { h: `bob_${suffix}` },
      bearer(carol.token),
    );
    expect(body.data?.userByHandle).toMatchObject({
      handle: `bob_${suffix}`,
      email: null,
      workouts: null,
      recommendations: null,
      isPremium: false,
    });
    const codes = (body.errors ?? []).map((e) => e.extensions?.code);
    expect(codes.length).toBeGreaterThanOrEqual(3);
    expect(codes.every((c) => c === 'FORBIDDEN')).toBe(true);
    const publicProfile = await execute(url, UserByHandleDocument, { handle: bob.user.handle.toUpperCase() });
    expect(publicProfile.body.data?.userByHandle?.id).toBe(bob.user.id);
  });

  it('should answer bad input with contract codes, never a 500 or a stack trace', async () => {
    const dave = await signUp(`dave_${suffix}`);
    const cases = [
      await execute(url, SignUpDocument, {
        input: { email: 'not-an-email', password: 'long enough pw', handle: `x_${suffix}`, displayName: 'X' },
      }),
      await execute(url, SignUpDocument, {
        input: {
          email: `eve_${suffix}@example.com`,
          password: 'short',
          handle: `eve_${suffix}`,
          displayName: 'Eve',
        },
      }),
      await execute(url, SignUpDocument, {
        input: {
          email: `dave_${suffix}@example.com`,
          password: 'long enough pw',
          handle: `dave2_${suffix}`,
          displayName: 'Dup',
        },
      }),
      await execute(
        url,
        LogWorkoutDocument,
        { input: { id: 'not-a-uuid', sport: 'RUN', startedAt: new Date().toISOString(), durationSec: 60 } },
        dave.token,
      ),
      await execute(
        url,
        LogWorkoutDocument,
        { input: { id: randomUUID(), sport: 'RUN', startedAt: new Date().toISOString(), durationSec: 0 } },
        dave.token,
      ),
      await execute(url, LogWorkoutDocument, {
        input: { id: randomUUID(), sport: 'RUN', startedAt: new Date().toISOString(), durationSec: 60 },
      }),
    ];
    expect(cases.map((c) => c.body.errors?.[0]?.extensions?.code)).toEqual([
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'CONFLICT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'UNAUTHENTICATED',
    ]);
    for (const c of cases) {
      expect(c.status).toBeLessThan(500);
      expect(JSON.stringify(c.body)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    }
  });

  it('should refuse a forged token at the router with 401', async () => {
    const { status, body } = await execute(url, PlansDocument, {}, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('should start and cancel a membership through the router, charging once per idempotency key', async () => {
    const payer = await signUp(`payer_${suffix}`);
    const input = {
      planId: 'premium-yearly-usd',
      paymentMethodToken: 'tok_visa',
      idempotencyKey: `order-${suffix}`,
    };
    const [first, retry] = await Promise.all([
      execute(url, StartMembershipDocument, { input }, payer.token),
      execute(url, StartMembershipDocument, { input }, payer.token),
    ]);
    expect(first.body.errors).toBeUndefined();
    expect(retry.body.data).toEqual(first.body.data);
    const declined = await execute(
      url,
      StartMembershipDocument,
      { input: { ...input, paymentMethodToken: 'tok_chargeDeclined', idempotencyKey: `order2-${suffix}` } },
      payer.token,
    );
    expect(declined.body.errors?.[0]?.extensions?.code).toBe('CONFLICT'); // already a member
    const canceled = await execute(url, CancelMembershipDocument, {}, payer.token);
    expect(canceled.body.data?.cancelMembership.cancelAtPeriodEnd).toBe(true);
    const billing = await execute(url, MyBillingDocument, {}, payer.token);
    expect(billing.body.data?.me).toMatchObject({ isPremium: true, membership: { status: 'ACTIVE' } });
    expect(billing.body.data?.me?.payments?.edges.map((e) => [e.node.amountCents, e.node.status])).toEqual([
      [9999, 'SUCCEEDED'],
    ]);
  });

  describe('authorization matrix', () => {
    const SELF_ONLY = [
      'email',
      'workouts',
      'stats',
      'recentTraining',
      'membership',
      'payments',
      'recommendations',
    ];
    const PROFILE = `query ($id: ID!, $from: DateTime!, $to: DateTime!) {
      user(id: $id) {
        id handle isPremium
        email
        workouts { edges { cursor } }
        stats(bucket: DAY, from: $from, to: $to) { start workouts }
        recentTraining { workouts }
        membership { id }
        payments { edges { cursor } }
        recommendations { id }
      }
    }`;
    let owner: { token: string; id: string; workoutId: string };
    let other: { token: string; id: string };

    beforeAll(async () => {
      const o = await signUp(`owner_${suffix}`);
      const x = await signUp(`other_${suffix}`);
      const workoutId = randomUUID();
      const logged = await execute(
        url,
        LogWorkoutDocument,
        {
          input: {
            id: workoutId,
            sport: 'RUN',
            startedAt: new Date(Date.now() - 60_000).toISOString(),
            durationSec: 900,
            distanceM: 3000,
          },
        },
        o.token,
      );
      expect(logged.body.errors).toBeUndefined();
      const member = await execute(
        url,
        StartMembershipDocument,
        {
          input: {
            planId: 'premium-monthly-eur',
            paymentMethodToken: 'tok_visa',
            idempotencyKey: `matrix-${suffix}`,
          },
        },
        o.token,
      );
      expect(member.body.errors).toBeUndefined();
      owner = { token: o.token, id: o.user.id, workoutId };
      other = { token: x.token, id: x.user.id };
    });

    const profileOf = (token?: string) =>
      postGraphQL<{ user: Record<string, unknown> | null }>(
        url,
        PROFILE,
        {
          id: owner.id,
          from: new Date(Date.now() - 86_400_000).toISOString(),
          to: new Date(Date.now() + 86_400_000).toISOString(),
        },
        token ? bearer(token) : {},
      );

    it('should give the owner every self-only field', async () => {
      const { status, body } = await profileOf(owner.token);
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      for (const field of SELF_ONLY) expect(body.data?.user?.[field], field).not.toBeNull();
      expect(body.data?.user?.isPremium).toBe(true);
    });

    it.each([
      ['another user', () => other.token],
      ['an anonymous caller', () => undefined],
    ])(
      'should give %s null and FORBIDDEN for every self-only field, and the public ones',
      async (_, token) => {
        const { status, body } = await profileOf(token());
        expect(status).toBe(200);
        expect(body.data?.user).toMatchObject({ id: owner.id, handle: `owner_${suffix}`, isPremium: true });
        for (const field of SELF_ONLY) expect(body.data?.user?.[field], field).toBeNull();
        const forbiddenPaths = (body.errors ?? []).map((e) => [e.extensions?.code, e.path?.join('.')]);
        for (const field of SELF_ONLY) expect(forbiddenPaths).toContainEqual(['FORBIDDEN', `user.${field}`]);
        expect(forbiddenPaths.every(([code]) => code === 'FORBIDDEN')).toBe(true);
      },
    );

    it('should refuse a bad or expired token with 401 before any field runs', async () => {
      const { status, body } = await profileOf(`${owner.token}x`);
      expect(status).toBe(401);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    const MUTATIONS: [name: string, query: string, variables: () => Record<string, unknown>][] = [
      [
        'updateProfile',
        'mutation ($i: UpdateProfileInput!) { updateProfile(input: $i) { id } }',
        () => ({ i: { displayName: 'Renamed' } }),
      ],
      ['follow', 'mutation ($id: ID!) { follow(userId: $id) { id } }', () => ({ id: owner.id })],
      ['unfollow', 'mutation ($id: ID!) { unfollow(userId: $id) { id } }', () => ({ id: owner.id })],
      [
        'logWorkout',
        'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
        () => ({
          i: {
            id: randomUUID(),
            sport: 'WALK',
            startedAt: new Date(Date.now() - 1000).toISOString(),
            durationSec: 600,
          },
        }),
      ],
      ['deleteWorkout', 'mutation ($id: ID!) { deleteWorkout(id: $id) }', () => ({ id: randomUUID() })],
      [
        'startMembership',
        'mutation ($i: StartMembershipInput!) { startMembership(input: $i) { id } }',
        () => ({
          i: {
            planId: 'premium-monthly-usd',
            paymentMethodToken: 'tok_visa',
            idempotencyKey: `m-${randomUUID()}`,
          },
        }),
      ],
      ['cancelMembership', 'mutation { cancelMembership { id } }', () => ({})],
    ];

    it.each(MUTATIONS)(
      'should refuse %s to an anonymous caller with UNAUTHENTICATED',
      async (_, query, variables) => {
        const { status, body } = await postGraphQL(url, query, variables());
        expect(status).toBe(200);
        expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      },
    );

    it.each([
      ...MUTATIONS,
      [
        'signIn',
        'mutation { signIn(input: { email: "a@b.co", password: "whatever-123" }) { token } }',
        () => ({}),
      ],
    ] as typeof MUTATIONS)(
      'should refuse %s with a forged token with HTTP 401',
      async (_, query, variables) => {
        const { status, body } = await postGraphQL(
          url,
          query,
          variables(),
          bearer(`${other.token.slice(0, -2)}xx`),
        );
        expect(status).toBe(401);
        expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      },
    );

    it("should not let another user delete or overwrite the owner's workout", async () => {
      const del = await postGraphQL(
        url,
        'mutation ($id: ID!) { deleteWorkout(id: $id) }',
        { id: owner.workoutId },
        bearer(other.token),
      );
      expect(del.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const overwrite = await postGraphQL(
        url,
        'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
        {
          i: {
            id: owner.workoutId,
            sport: 'RUN',
            startedAt: new Date(Date.now() - 60_000).toISOString(),
            durationSec: 900,
            distanceM: 3000,
          },
        },
        bearer(other.token),
      );
      expect(overwrite.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      const stillThere = await profileOf(owner.token);
      expect((stillThere.body.data?.user?.workouts as { edges: unknown[] } | undefined)?.edges).toHaveLength(
        1,
      );
    });

    it('should let each user change only their own account', async () => {
      const renamed = await postGraphQL(
        url,
        'mutation { updateProfile(input: { displayName: "Other Renamed" }) { id displayName } }',
        {},
        bearer(other.token),
      );
      expect(renamed.body.data).toEqual({ updateProfile: { id: other.id, displayName: 'Other Renamed' } });
      const follow = await postGraphQL(
        url,
        'mutation ($id: ID!) { follow(userId: $id) { id followersCount } }',
        { id: owner.id },
        bearer(other.token),
      );
      expect(follow.body.data).toEqual({ follow: { id: owner.id, followersCount: 1 } });
      const cancel = await postGraphQL(url, 'mutation { cancelMembership { id } }', {}, bearer(other.token));
      expect(cancel.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const ownerProfile = await profileOf(owner.token);
      expect(ownerProfile.body.data?.user?.handle).toBe(`owner_${suffix}`);
    });
  });

  it('should let no one but the router query a subgraph directly', async () => {
    for (const name of ['users', 'workouts', 'payments', 'recommendations'] as const) {
      const direct = `${stack.services[name].url}/graphql`;
      const anonymous = await postGraphQL(direct, '{ _service { sdl } }');
      expect(anonymous.status, name).toBe(401);
      const forged = await postGraphQL(
        direct,
        '{ _service { sdl } }',
        {},
        { 'x-router-secret': randomBytes(32).toString('hex'), 'x-client-address': '203.0.113.1' },
      );
      expect(forged.status, name).toBe(403);
      expect(forged.body.data, name).toBeUndefined();
      const fromRouter = await postGraphQL(direct, '{ __typename }', {}, { 'x-router-secret': routerSecret });
      expect(fromRouter.body.data, name).toEqual({ __typename: 'Query' });
      expect((await fetch(`${stack.services[name].url}/health`)).status, name).toBe(200);
    }
  });

  // Last: it stops the payments subgraph.
  it('should stop a subgraph gracefully on SIGTERM while requests are in flight', async () => {
    const payments = stack.services.payments;
    const direct = `${payments.url}/graphql`;
    const inFlight = Array.from({ length: 40 }, () =>
      fetch(direct, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-router-secret': routerSecret },
        body: JSON.stringify({ query: '{ plans { id priceCents } }' }),
      }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as { data?: { plans: unknown[] } } }),
        (error: Error) => ({ refused: error }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    const exitCode = await stack.kill('payments', 'SIGTERM');
    const outcomes = await Promise.all(inFlight);
    expect(exitCode).toBe(0);
    const answered = outcomes.filter(
      (o): o is { status: number; body: { data?: { plans: unknown[] } } } => 'status' in o,
    );
    // Every request the service accepted got a whole answer; none was cut off.
    expect(answered.length).toBeGreaterThan(0);
    for (const o of answered) {
      expect(o.status).toBe(200);
      expect(o.body.data?.plans.length).toBeGreaterThan(0);
    }
    expect((await fetch(url.replace('/graphql', '/health'))).status).toBe(200);
  });
});
