import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
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
  type SingleResult,
  waitFor,
} from '@fitness/testing';
import { type Stack, startStack } from '@fitness/tooling';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/** What one operation over graphql-ws got. */
interface WsOperation<TData> {
  /** Every result delivered, in order. */
  results: SingleResult<TData>[];
  /** Completed, or ended by an error or the socket's close. */
  ended: boolean;
  /** The socket's first close (a refused connection_init: 4403). */
  closed: { code: number; reason: string } | undefined;
  stop(): Promise<void>;
}

/** Sends one operation on a graphql-ws connection of its own, the token in connection_init. */
function overWebSocket<TData>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): WsOperation<TData> {
  const operation: WsOperation<TData> = {
    results: [],
    ended: false,
    closed: undefined,
    stop: async () => {},
  };
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? bearer(token) : {},
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        operation.closed ??= { code, reason };
      },
    },
  });
  const end = () => {
    operation.ended = true;
  };
  const unsubscribe = client.subscribe<TData>(
    { query, variables },
    { next: (result) => operation.results.push(result as SingleResult<TData>), error: end, complete: end },
  );
  operation.stop = async () => {
    unsubscribe();
    await client.dispose();
  };
  return operation;
}

/** A result as two transports are compared: its data, and its errors' codes and paths in path order. */
function comparable(result: SingleResult<unknown>) {
  return {
    data: result.data,
    errors: (result.errors ?? [])
      .map((e) => [e.extensions?.code, e.path?.join('.')] as [unknown, string | undefined])
      .sort(([, a], [, b]) => (a ?? '').localeCompare(b ?? '')),
  };
}

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
    type Profile = { user: Record<string, unknown> | null };
    let owner: { token: string; id: string; email: string; workoutId: string };
    let other: { token: string; id: string; email: string };

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
      owner = { token: o.token, id: o.user.id, email: o.user.email!, workoutId };
      other = { token: x.token, id: x.user.id, email: x.user.email! };
    });

    const profileVariables = () => ({
      id: owner.id,
      from: new Date(Date.now() - 86_400_000).toISOString(),
      to: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const profileOf = (token?: string, variables = profileVariables()) =>
      postGraphQL<Profile>(url, PROFILE, variables, token ? bearer(token) : {});

    // What each caller gets of the owner's profile, over HTTP and over graphql-ws alike.
    const expectOwnProfile = (body: SingleResult<Profile>) => {
      expect(body.errors).toBeUndefined();
      for (const field of SELF_ONLY) expect(body.data?.user?.[field], field).not.toBeNull();
      expect(body.data?.user).toMatchObject({ email: owner.email, isPremium: true });
    };
    const expectProfileWithheld = (body: SingleResult<Profile>) => {
      expect(body.data?.user).toMatchObject({ id: owner.id, handle: `owner_${suffix}`, isPremium: true });
      for (const field of SELF_ONLY) expect(body.data?.user?.[field], field).toBeNull();
      const forbiddenPaths = (body.errors ?? []).map((e) => [e.extensions?.code, e.path?.join('.')]);
      for (const field of SELF_ONLY) expect(forbiddenPaths).toContainEqual(['FORBIDDEN', `user.${field}`]);
      expect(forbiddenPaths.every(([code]) => code === 'FORBIDDEN')).toBe(true);
      expect(JSON.stringify(body)).not.toContain(owner.email);
    };

    it('should give the owner every self-only field', async () => {
      const { status, body } = await profileOf(owner.token);
      expect(status).toBe(200);
      expectOwnProfile(body);
    });

    it.each([
      ['another user', () => other.token],
      ['an anonymous caller', () => undefined],
    ])(
      'should give %s null and FORBIDDEN for every self-only field, and the public ones',
      async (_, token) => {
        const { status, body } = await profileOf(token());
        expect(status).toBe(200);
        expectProfileWithheld(body);
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

    // The router runs queries over graphql-ws too, and a subscription that selects a
    // @selfOnly field per subscriber with that subscriber's token: the same answers as HTTP.
    describe('over graphql-ws', () => {
      const BOARD = { metric: 'WORKOUTS', period: 'WEEK', first: 100 };
      const BOARD_EMAILS = `subscription ($board: LeaderboardInput!) {
        leaderboardUpdated(board: $board) { entries { score user { id email } } }
      }`;
      type Board = {
        leaderboardUpdated: {
          entries: { score: number; user: { id: string; email: string | null } | null }[];
        };
      };
      const operations: WsOperation<unknown>[] = [];
      const open = <TData>(query: string, variables: Record<string, unknown>, token?: string) => {
        const operation = overWebSocket<TData>(url, query, variables, token);
        operations.push(operation as WsOperation<unknown>);
        return operation;
      };
      /** A query's one answer over graphql-ws. */
      const answer = async <TData>(query: string, variables: Record<string, unknown>, token?: string) => {
        const operation = open<TData>(query, variables, token);
        await waitFor(() => operation.ended, 'the answer over graphql-ws');
        expect(operation.results).toHaveLength(1);
        return operation.results[0]!;
      };

      beforeAll(async () => {
        // On the week's board with the owner: each subscriber sees its own entry and another's.
        const logged = await execute(
          url,
          LogWorkoutDocument,
          {
            input: {
              id: randomUUID(),
              sport: 'RUN',
              startedAt: new Date(Date.now() - 60_000).toISOString(),
              durationSec: 600,
            },
          },
          other.token,
        );
        expect(logged.body.errors).toBeUndefined();
      });
      afterAll(() => Promise.all(operations.map((o) => o.stop())));

      it.each([
        ['the owner', () => owner.token, expectOwnProfile],
        ['another user', () => other.token, expectProfileWithheld],
        ['an anonymous caller', () => undefined, expectProfileWithheld],
      ] as [string, () => string | undefined, (body: SingleResult<Profile>) => void][])(
        "should answer %s's query of the owner's profile as over HTTP",
        async (_, token, expectations) => {
          const variables = profileVariables();
          const overWs = await answer<Profile>(PROFILE, variables, token());
          expectations(overWs);
          expect(comparable(overWs)).toEqual(comparable((await profileOf(token(), variables)).body));
        },
      );

      it.each([
        ['the owner', () => owner],
        ['another user', () => other],
        ['an anonymous caller', () => undefined],
      ])('should give %s its own email on me and no one else, as over HTTP', async (_, who) => {
        const viewer = who();
        const overWs = await answer<{ me: { id: string; email: string | null } | null }>(
          print(MeDocument),
          {},
          viewer?.token,
        );
        expect(overWs.errors).toBeUndefined();
        expect(overWs.data?.me ?? null).toEqual(
          viewer ? expect.objectContaining({ id: viewer.id, email: viewer.email }) : null,
        );
        expect(comparable(overWs)).toEqual(
          comparable((await execute(url, MeDocument, {}, viewer?.token)).body),
        );
      });

      it.each([
        ['the owner', () => owner],
        ['another user', () => other],
        ['an anonymous subscriber', () => undefined],
      ])(
        'should deliver %s of a board the email of its own entry only, FORBIDDEN at every other, as Query.leaderboard over HTTP',
        async (_, who) => {
          const viewer = who();
          const subscription = open<Board>(BOARD_EMAILS, { board: BOARD }, viewer?.token);
          const entries = () => subscription.results.at(-1)?.data?.leaderboardUpdated.entries ?? [];
          await waitFor(
            () => [owner.id, other.id].every((id) => entries().some((e) => e.user?.id === id)),
            'a snapshot with the owner and the other user',
          );
          const snapshot = subscription.results.at(-1)!;
          const shown = snapshot.data?.leaderboardUpdated.entries ?? [];
          for (const entry of shown) {
            expect(entry.user?.email, entry.user?.id).toBe(
              entry.user?.id === viewer?.id ? viewer?.email : null,
            );
          }
          expect(comparable(snapshot).errors).toEqual(
            shown
              .flatMap((e, i) =>
                e.user?.id === viewer?.id ? [] : [`leaderboardUpdated.entries.${i}.user.email`],
              )
              .sort()
              .map((path) => ['FORBIDDEN', path]),
          );
          // Nothing it was ever sent names another user's email.
          const delivered = JSON.stringify(subscription.results);
          for (const user of [owner, other]) if (user !== viewer) expect(delivered).not.toContain(user.email);
          const readOverHttp = () =>
            postGraphQL<{ leaderboard: Board['leaderboardUpdated'] }>(
              url,
              BOARD_EMAILS.replace('subscription', 'query').replace('leaderboardUpdated', 'leaderboard'),
              { board: BOARD },
              viewer ? bearer(viewer.token) : {},
            );
          // A workout event still on its way may move the board between the snapshot and
          // the read: the two are compared once the subscriber holds what HTTP reads.
          let latest = snapshot;
          let overHttp = await readOverHttp();
          await waitFor(async () => {
            latest = subscription.results.at(-1)!;
            overHttp = await readOverHttp();
            return (
              latest === subscription.results.at(-1) &&
              isDeepStrictEqual(
                overHttp.body.data?.leaderboard.entries,
                latest.data?.leaderboardUpdated.entries,
              )
            );
          }, 'the board over HTTP as the subscriber last saw it').catch(() => undefined);
          expect(overHttp.body.data?.leaderboard.entries).toEqual(latest.data?.leaderboardUpdated.entries);
          expect(comparable(overHttp.body).errors).toEqual(
            comparable(latest).errors.map(([code, path]) => [
              code,
              path?.replace(/^leaderboardUpdated/, 'leaderboard'),
            ]),
          );
        },
      );

      it('should refuse a forged token at connection_init with 4403 and the reason of the HTTP 401, before any operation runs', async () => {
        const forged = `${owner.token}x`;
        const overHttp = await profileOf(forged);
        expect(overHttp.status).toBe(401);
        for (const [query, variables] of [
          [PROFILE, profileVariables()],
          [BOARD_EMAILS, { board: BOARD }],
        ] as const) {
          const refused = open(query, variables, forged);
          await waitFor(() => refused.ended && refused.closed !== undefined, 'the refusal');
          expect(refused.closed).toEqual({ code: 4403, reason: overHttp.body.errors?.[0]?.message });
          expect(refused.results).toEqual([]);
        }
      });
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
