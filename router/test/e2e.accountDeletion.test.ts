import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createTokenIssuer } from '@fitness/auth';
import {
  DeleteAccountDocument,
  LeaderboardDocument,
  LeaderboardUpdatedDocument,
  LogWorkoutDocument,
  MeDocument,
  MyBillingDocument,
  SignInDocument,
  SignUpDocument,
  StartMembershipDocument,
  UserByHandleDocument,
} from '@fitness/client';
import { type EventBus, NatsEventBus, usersDeletedEvent } from '@fitness/events';
import { createPool, type Pool } from '@fitness/pg-kit';
import { createLogger, HELD_ACCOUNTS_PATH, ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import {
  bearer,
  createTestDatabase,
  execute,
  mongoUrlWithOwnDatabase,
  OwnNatsServer,
  OwnRedisServer,
  postGraphQL,
  realService,
  waitFor,
} from '@fitness/testing';
import { repoRoot, type Stack, startStack } from '@fitness/tooling';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const PASSWORD = 'correct horse battery';
const BOARD = { metric: 'WORKOUTS', period: 'WEEK', first: 100 } as const;
const ERASURE_CONSUMERS = [
  'users-erasure',
  'workouts-erasure',
  'payments-erasure',
  'recommendations-erasure',
  'leaderboards',
  'recommendations',
  ...['router', 'users', 'workouts', 'payments', 'recommendations'].map((s) => `revocations-${s}`),
];

// The servers are this suite's own (the services use the default stream and key
// names); PostgreSQL is the shared one, a database per store.
const postgresUrl = realService('postgres', 'account deletion e2e');
const enabled = Boolean(
  postgresUrl && realService('redis', 'account deletion e2e') && realService('nats', 'account deletion e2e'),
);
// A database of its own: the users service's outbox must be relayed by this stack's relay, to this stack's bus.
const mongoUrl = process.env.MONGODB_URL
  ? mongoUrlWithOwnDatabase(process.env.MONGODB_URL, 'e2e-deletion')
  : undefined;

/**
 * An account's erasure through the real processes: users deletes it and emits
 * users.deleted through its outbox, NATS JetStream carries it, every service erases
 * what it owns, and the router and the subgraphs refuse the account's tokens at once
 * (the revocation list in Redis).
 */
describe.skipIf(!enabled)('account deletion across the supergraph, end to end', () => {
  let nats: OwnNatsServer;
  let redis: OwnRedisServer;
  let databases: { url: string; drop(): Promise<void> }[];
  let payments: Pool;
  let bus: EventBus;
  let stack: Stack;
  let url: string;
  const jwtSecret = randomBytes(32).toString('hex');
  const routerSecret = randomBytes(32).toString('hex');
  const suffix = randomBytes(3).toString('hex');

  beforeAll(async () => {
    nats = await OwnNatsServer.start();
    redis = await OwnRedisServer.start();
    databases = [await createTestDatabase(postgresUrl!), await createTestDatabase(postgresUrl!)];
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: jwtSecret,
        ROUTER_SUBGRAPH_SECRET: routerSecret,
        APOLLO_TELEMETRY_DISABLED: 'true',
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
      },
      serviceEnv: {
        workouts: { WORKOUTS_DATABASE_URL: databases[0]!.url },
        payments: { PAYMENTS_DATABASE_URL: databases[1]!.url },
        users: { USERS_DATA_DIR: 'memory://', MONGODB_URL: mongoUrl },
      },
    });
    url = stack.routerUrl;
    payments = createPool(databases[1]!.url);
    bus = await NatsEventBus.connect({ url: nats.url, logger: createLogger('e2e-deletion', 'silent') });
  }, 180_000);

  afterAll(async () => {
    await bus?.close();
    await payments?.end();
    await stack?.stop();
    for (const db of databases ?? []) await db.drop();
    await nats?.stop();
    await redis?.stop();
  });

  const signUp = async (handle: string) => {
    const { body } = await execute(url, SignUpDocument, {
      input: {
        email: `${handle}@example.com`,
        password: PASSWORD,
        handle,
        displayName: handle,
        region: 'EU',
      },
    });
    expect(body.errors).toBeUndefined();
    return body.data!.signUp;
  };
  const logWorkout = async (token: string, daysAgo: number) => {
    const { body } = await execute(
      url,
      LogWorkoutDocument,
      {
        input: {
          id: randomUUID(),
          sport: 'STRENGTH',
          startedAt: new Date(Date.now() - daysAgo * 86_400_000 - 3600_000).toISOString(),
          durationSec: 3600,
          sets: [1, 2, 3].map(() => ({ exerciseId: 'barbell-bench-press', reps: 8, weightKg: 60 })),
        },
      },
      token,
    );
    return body;
  };
  const board = async () => {
    const { status, body } = await execute(url, LeaderboardDocument, { board: BOARD });
    expect(status).toBe(200);
    expect(body.data).not.toBeNull();
    return body.data!.leaderboard!.entries;
  };
  const onBoard = async (userId: string) => (await board()).some((e) => e.user?.id === userId);
  const held = async (service: 'workouts' | 'payments' | 'recommendations') => {
    const res = await fetch(`${stack.services[service].url}${HELD_ACCOUNTS_PATH}`, {
      headers: { [ROUTER_SECRET_HEADER]: routerSecret },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { userIds: string[] }).userIds;
  };
  const follow = (token: string, userId: string) =>
    postGraphQL(url, 'mutation ($id: ID!) { follow(userId: $id) { id } }', { id: userId }, bearer(token));
  const paymentRows = async () =>
    (await payments.query('SELECT id, user_id, amount_cents, currency, status FROM payments ORDER BY id'))
      .rows;
  /** Every consumer has taken every event it was given. */
  const settled = async () => {
    for (const name of ERASURE_CONSUMERS) {
      const state = await bus.consumerState(name).catch(() => null);
      if (state && state.pending + state.ackPending > 0) return false;
    }
    return true;
  };
  /** What other users see of the world, to compare before and after a replay. */
  const snapshot = async (bobToken: string) => ({
    bob: (await execute(url, MeDocument, {}, bobToken)).body.data,
    billing: (await execute(url, MyBillingDocument, { first: 10 }, bobToken)).body.data,
    board: await board(),
    held: {
      workouts: await held('workouts'),
      payments: await held('payments'),
      recommendations: await held('recommendations'),
    },
    payments: await paymentRows(),
  });

  it('should erase the account everywhere within seconds, refuse its tokens at once, keep payment amounts, and leave others untouched', async () => {
    const alice = await signUp(`alice_${suffix}`);
    const bob = await signUp(`bob_${suffix}`);
    for (const days of [0, 1]) expect((await logWorkout(alice.token, days)).errors).toBeUndefined();
    expect((await logWorkout(bob.token, 0)).errors).toBeUndefined();
    await follow(alice.token, bob.user.id);
    await follow(bob.token, alice.user.id);
    for (const who of [alice, bob]) {
      const started = await execute(
        url,
        StartMembershipDocument,
        {
          input: {
            planId: 'premium-monthly-usd',
            paymentMethodToken: 'tok_visa',
            idempotencyKey: randomUUID(),
          },
        },
        who.token,
      );
      expect(started.body.errors).toBeUndefined();
    }
    await waitFor(
      async () => (await onBoard(alice.user.id)) && (await onBoard(bob.user.id)),
      'both on the board',
    );
    await waitFor(
      async () => (await held('recommendations')).includes(alice.user.id),
      'her training features',
    );
    const recommended = await postGraphQL<{ me: { recommendations: unknown[] } }>(
      url,
      '{ me { recommendations(first: 5) { id kind } } }',
      {},
      bearer(alice.token),
    );
    expect(recommended.body.data?.me.recommendations.length).toBeGreaterThan(0);
    const alicePayments = (await paymentRows()).filter((r) => r.user_id === alice.user.id);
    expect(alicePayments).toHaveLength(1);

    // A live socket of hers, as an app keeps one for the boards.
    const socket = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    await new Promise((done) => socket.once('open', done));
    const acked = new Promise((done) => socket.once('message', done));
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${alice.token}` } }),
    );
    await acked;

    const wrong = await execute(url, DeleteAccountDocument, { password: 'not her password' }, alice.token);
    expect(wrong.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const deleted = await execute(url, DeleteAccountDocument, { password: PASSWORD }, alice.token);
    expect(deleted.body).toEqual({ data: { deleteAccount: true } });

    // At once: the router refuses the token (401) and closes her socket (4403).
    const refused = await execute(url, MeDocument, {}, alice.token);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await closed).toBe(4403);
    // And every subgraph refuses it behind the router, a logWorkout included.
    const direct = await postGraphQL(
      `${stack.services.workouts.url}/graphql`,
      '{ __typename }',
      {},
      {
        ...bearer(alice.token),
        [ROUTER_SECRET_HEADER]: routerSecret,
      },
    );
    expect(direct.status).toBe(401);
    expect((await logWorkout(alice.token, 0)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const signIn = await execute(url, SignInDocument, {
      input: { email: `alice_${suffix}@example.com`, password: PASSWORD },
    });
    expect(signIn.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await execute(url, UserByHandleDocument, { handle: `alice_${suffix}` })).body.data).toEqual({
      userByHandle: null,
    });

    // Within seconds: every service has erased what it held.
    await waitFor(async () => !(await onBoard(alice.user.id)), 'her board entry to go');
    for (const service of ['workouts', 'payments', 'recommendations'] as const) {
      await waitFor(async () => !(await held(service)).includes(alice.user.id), `${service} to erase her`);
    }
    const after = await paymentRows();
    expect(after.filter((r) => r.user_id === alice.user.id)).toEqual([]);
    const kept = after.find((r) => r.id === alicePayments[0]!.id)!;
    expect(kept).toMatchObject({
      amount_cents: alicePayments[0]!.amount_cents,
      currency: 'USD',
      status: 'SUCCEEDED',
    });
    expect(kept.user_id).toMatch(/^erased:/);
    const memberships = await payments.query('SELECT status FROM memberships WHERE user_id = $1', [
      alice.user.id,
    ]);
    expect(memberships.rows).toEqual([]);

    // Bob: his workout, board entry and membership stand; his follow counts lost her.
    const bobNow = await execute(url, MeDocument, {}, bob.token);
    expect(bobNow.body.data?.me).toMatchObject({ id: bob.user.id, followersCount: 0, followingCount: 0 });
    expect(await onBoard(bob.user.id)).toBe(true);
    const billing = await execute(url, MyBillingDocument, { first: 10 }, bob.token);
    expect(billing.body.data?.me?.isPremium).toBe(true);
    expect(await held('workouts')).toContain(bob.user.id);

    // Her email is free again: a new account, a new id.
    const again = await signUp(`alice_${suffix}`);
    expect(again.user.id).not.toBe(alice.user.id);

    // Replaying the event (a redelivery, a repair) changes nothing.
    await waitFor(settled, 'every consumer to settle');
    const before = await snapshot(bob.token);
    await bus.publish(usersDeletedEvent(alice.user.id));
    await waitFor(settled, 'the replay to be consumed');
    expect(await snapshot(bob.token)).toEqual(before);
  });

  it.runIf(mongoUrl)(
    'should answer the board whole for a user that does not exist, and the accounts audit should find and repair it',
    async () => {
      // A workout under a token whose user never existed (or vanished without an event).
      const ghost = randomBytes(12).toString('hex');
      const issue = createTokenIssuer({
        secret: jwtSecret,
        issuer: 'fitness-users',
        audience: 'fitness-api',
        ttlSeconds: 600,
      });
      const { token } = await issue({ userId: ghost, region: 'EU' });
      const logged = await postGraphQL(
        url,
        'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
        { i: { id: randomUUID(), sport: 'RUN', startedAt: new Date().toISOString(), durationSec: 1800 } },
        bearer(token),
      );
      expect(logged.body.errors).toBeUndefined();
      await waitFor(async () => (await board()).some((e) => e.user === null), 'the ghost on the board');
      // The board answers whole: the missing user's entry is there with a null user; an
      // error, if any, is at that entry's user only.
      const { body } = await execute(url, LeaderboardDocument, { board: BOARD });
      const entries = body.data!.leaderboard!.entries;
      const index = entries.findIndex((e) => e.user === null);
      expect(entries[index]).toMatchObject({ score: 1, user: null });
      expect(entries.filter((e) => e.user !== null).length).toBeGreaterThan(0);
      for (const error of body.errors ?? [])
        expect(error.path?.slice(0, 4)).toEqual(['leaderboard', 'entries', index, 'user']);
      // So does the live board, to every subscriber.
      const live = await firstSnapshot(url);
      expect(live.data?.leaderboardUpdated?.entries.some((e) => e.user === null)).toBe(true);

      const audit = (...args: string[]) =>
        runAudit(
          stack,
          { MONGODB_URL: mongoUrl!, ROUTER_SUBGRAPH_SECRET: routerSecret, JWT_SECRET: jwtSecret },
          args,
        );
      const found = await audit('--json');
      expect(found.code).toBe(1);
      const report = JSON.parse(found.stdout) as { orphans: { userId: string; heldBy: string[] }[] };
      expect(report.orphans.find((o) => o.userId === ghost)?.heldBy).toContain('workouts');
      expect((await audit('--repair')).code).toBe(0);
      await waitFor(async () => !(await board()).some((e) => e.user === null), 'the ghost to be erased');
      await waitFor(async () => !(await held('workouts')).includes(ghost), 'workouts to drop the ghost');
      await waitFor(async () => (await audit()).code === 0, 'a clean audit');
    },
  );
});

/** The first snapshot of the week's WORKOUTS board over graphql-ws, with the users' handles. */
async function firstSnapshot(url: string) {
  const ws = new WebSocket(url.replace('http', 'ws'), 'graphql-transport-ws');
  await new Promise((done) => ws.once('open', done));
  const next = new Promise<{
    data?: { leaderboardUpdated: { entries: { user: { handle: string } | null }[] } | null } | null;
  }>((done) =>
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.type === 'connection_ack') {
        ws.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: {
              query: print(LeaderboardUpdatedDocument),
              variables: { board: BOARD },
            },
          }),
        );
      }
      if (message.type === 'next') done(message.payload);
    }),
  );
  ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  const snapshot = await next;
  ws.close();
  return snapshot;
}

/** Runs `pnpm --filter @fitness/users accounts:audit` as an operator would, against the stack. */
function runAudit(stack: Stack, env: Record<string, string>, args: string[]) {
  const subgraphs = (['workouts', 'payments', 'recommendations'] as const).flatMap((name) => [
    '--subgraph',
    `${name}=${stack.services[name].url}`,
  ]);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(repoRoot, 'subgraphs/users/src/accounts/cli.ts'), ...subgraphs, ...args],
    {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
    child.once('exit', (code) => done({ code, stdout, stderr })),
  );
}
