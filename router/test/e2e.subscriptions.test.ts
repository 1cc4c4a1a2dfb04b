import { randomBytes, randomUUID } from 'node:crypto';
import {
  bearer,
  createTestDatabase,
  mongoUrlWithOwnDatabase,
  postGraphQL,
  realService,
} from '@fitness/testing';
import { type RunningService, type Stack, startStack } from '@fitness/tooling';
import { type Client, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

/**
 * Live leaderboards through the real router processes: two routers, two workouts
 * replicas on one PostgreSQL and one Redis, users, payments and recommendations.
 * A workout logged through either router reaches subscribers of both.
 */
const BOARD_SUBSCRIPTION = `subscription ($board: LeaderboardInput!) {
  leaderboardUpdated(board: $board) { metric period updatedAt entries { rank score user { id displayName } } }
}`;
const BOARD = { metric: 'WORKOUTS', period: 'WEEK' };

interface Snapshot {
  leaderboardUpdated: {
    entries: { rank: number; score: number; user: { id: string; displayName: string } }[];
  };
}

interface Collected {
  results: { data?: Snapshot; errors?: unknown[] }[];
  errors: unknown[];
  closes: number[];
  dispose(): void;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const entriesOf = (c: Collected) => c.results.at(-1)?.data?.leaderboardUpdated.entries ?? [];
const hasUser = (c: Collected, userId: string) => entriesOf(c).some((e) => e.user.id === userId);

describe.skipIf(!process.env.TEST_POSTGRES_URL && !process.env.CI)('live leaderboards end to end', () => {
  let stack: Stack;
  let routerB: RunningService;
  let dropDb: (() => Promise<void>) | undefined;
  const clients: Client[] = [];
  const suffix = randomBytes(3).toString('hex');

  const wsClient = (routerUrl: string, token?: string) => {
    const collected: Collected = { results: [], errors: [], closes: [], dispose: () => {} };
    const client = createClient({
      url: routerUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      on: { closed: (e) => collected.closes.push((e as { code: number }).code) },
    });
    clients.push(client);
    collected.dispose = client.subscribe<Snapshot>(
      { query: BOARD_SUBSCRIPTION, variables: { board: BOARD } },
      {
        next: (r) => collected.results.push(r as Collected['results'][number]),
        error: (e) => collected.errors.push(e),
        complete: () => {},
      },
    );
    return collected;
  };

  const signUp = async (routerUrl: string, handle: string) => {
    const { body } = await postGraphQL<{ signUp: { token: string; user: { id: string } } }>(
      routerUrl,
      'mutation ($i: SignUpInput!) { signUp(input: $i) { token user { id } } }',
      {
        i: {
          email: `${handle}@example.com`,
          password: 'correct horse battery',
          handle,
          displayName: `${handle} Live`,
          region: 'US',
        },
      },
    );
    expect(body.errors).toBeUndefined();
    return { token: body.data!.signUp.token, id: body.data!.signUp.user.id };
  };

  const logWorkout = async (routerUrl: string, token: string) => {
    const { body } = await postGraphQL(
      routerUrl,
      'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
      {
        i: {
          id: randomUUID(),
          sport: 'RUN',
          startedAt: new Date(Date.now() - 60_000).toISOString(),
          durationSec: 1200,
          distanceM: 4000,
        },
      },
      bearer(token),
    );
    expect(body.errors).toBeUndefined();
  };

  beforeAll(async () => {
    const postgres = realService('postgres', 'live leaderboards e2e');
    const redisUrl = realService('redis', 'live leaderboards e2e');
    if (!postgres || !redisUrl) return;
    const db = await createTestDatabase(postgres);
    dropDb = db.drop;
    // A Redis database of its own: boards from other runs must not leak in.
    const redisDb = `${redisUrl}/${9 + (Number.parseInt(suffix, 16) % 6)}`;
    const redis = new Redis(redisDb);
    await redis.flushdb();
    redis.disconnect();
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: randomBytes(32).toString('hex'),
        APOLLO_TELEMETRY_DISABLED: 'true',
      },
      serviceEnv: {
        workouts: { WORKOUTS_DATABASE_URL: db.url, REDIS_URL: redisDb },
        payments: { PAYMENTS_DATA_DIR: 'memory://' },
        users: {
          USERS_DATA_DIR: 'memory://',
          MONGODB_URL:
            process.env.MONGODB_URL && mongoUrlWithOwnDatabase(process.env.MONGODB_URL, 'e2e-subscriptions'),
        },
      },
    });
    const workoutsB = await stack.addReplica('workouts');
    routerB = await stack.addReplica('router', { SUBGRAPH_WORKOUTS_URL: `${workoutsB.url}/graphql` });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await stack?.stop();
    await dropDb?.();
  });

  it('should deliver workouts logged through either router to subscribers of both, with users resolved', async () => {
    const routerA = stack.routerUrl;
    const routerBUrl = `${routerB.url}/graphql`;
    const bob = await signUp(routerA, `bob_${suffix}`);
    const alice = await signUp(routerA, `alice_${suffix}`);

    const onA = wsClient(routerA);
    const onB = wsClient(routerBUrl, alice.token);
    await waitFor(() => onA.results.length > 0 && onB.results.length > 0, 'first snapshots');

    // Multipart HTTP on router A, as Apollo Client would subscribe.
    const controller = new AbortController();
    const multipart = await fetch(routerA, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;subscriptionSpec="1.0",application/json',
      },
      body: JSON.stringify({ query: BOARD_SUBSCRIPTION, variables: { board: BOARD } }),
      signal: controller.signal,
    });
    const reader = multipart.body!.getReader();
    let multipartText = '';
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        multipartText += new TextDecoder().decode(value);
      }
    })();

    await logWorkout(routerBUrl, bob.token);
    await waitFor(() => hasUser(onA, bob.id) && hasUser(onB, bob.id), 'bob on both routers');
    const bobEntry = entriesOf(onA).find((e) => e.user.id === bob.id);
    expect(bobEntry).toMatchObject({ score: 1, user: { displayName: `bob_${suffix} Live` } });

    await logWorkout(routerA, alice.token);
    await waitFor(() => hasUser(onA, alice.id) && hasUser(onB, alice.id), 'alice on both routers');
    await waitFor(() => multipartText.includes(alice.id), 'alice over multipart');
    controller.abort();

    // A late joiner on router B gets the current board at once.
    const late = wsClient(routerBUrl);
    await waitFor(() => late.results.length > 0, 'late joiner');
    expect(hasUser(late, alice.id) && hasUser(late, bob.id)).toBe(true);
  });

  it('should refuse a bad token at connect time and serve anonymous watchers', async () => {
    const bad = wsClient(stack.routerUrl, 'not.a.token');
    await waitFor(() => bad.closes.length > 0, 'close');
    expect(bad.closes[0]).toBe(4403);
    const anonymous = wsClient(stack.routerUrl);
    await waitFor(() => anonymous.results.length > 0, 'anonymous snapshot');
  });

  it('should end streams with an error when the workouts subgraph dies, stay healthy, and resume after a restart', async () => {
    const watcher = wsClient(stack.routerUrl);
    await waitFor(() => watcher.results.length > 0, 'snapshot');
    await stack.kill('workouts', 'SIGKILL');
    await waitFor(() => watcher.errors.length > 0, 'stream error', 20_000);
    const [error] = watcher.errors[0] as { extensions: { code: string } }[];
    expect(error?.extensions.code).toBe('SUBSCRIPTION_UPSTREAM_FAILED');
    expect((await fetch(stack.routerUrl.replace('/graphql', '/health'))).status).toBe(200);

    await stack.restart('workouts');
    const again = wsClient(stack.routerUrl);
    await waitFor(() => again.results.length > 0, 'snapshot after restart', 20_000);
  });

  it('should close the upstream subscription when the last subscriber leaves, as the subgraph sees it', async () => {
    const workoutsMetrics = async () => (await fetch(`${stack.services.workouts.url}/metrics`)).text();
    await waitFor(() => true, 'noop');
    expect(await workoutsMetrics()).toMatch(/^workouts_leaderboard_subscriptions [1-9]\d*$/m);
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    const metrics = async (base: string) => (await fetch(base.replace('/graphql', '/metrics'))).text();
    let subgraphSide = '';
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      subgraphSide = await workoutsMetrics();
      if (/^workouts_leaderboard_subscriptions 0$/m.test(subgraphSide)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(subgraphSide).toMatch(/^workouts_leaderboard_subscriptions 0$/m);
    for (const base of [stack.routerUrl, `${routerB.url}/graphql`]) {
      let text = '';
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        text = await metrics(base);
        if (/^router_upstream_subscriptions 0$/m.test(text)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(text).toMatch(/^router_upstream_subscriptions 0$/m);
      expect(text).toMatch(/^router_subscriptions_active 0$/m);
    }
  });
});
