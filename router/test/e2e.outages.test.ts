import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DashboardDocument, type DashboardQuery } from '@fitness/client';
import {
  bearer,
  createTestDatabase,
  execute,
  mongoUrlWithOwnDatabase,
  OwnNatsServer,
  OwnRedisServer,
  postGraphQL,
  realService,
} from '@fitness/testing';
import { type ServiceName, type Stack, startStack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Outages as a deployment meets them, through the real processes: each subgraph
 * killed in turn under the Dashboard query, and the event bus (NATS) and Redis taken
 * away under a running supergraph. The NATS and Redis servers are this suite's own,
 * so it can kill them without disturbing other suites.
 */
describe('outages end to end', () => {
  let stack: Stack;
  let nats: OwnNatsServer;
  let redis: OwnRedisServer;
  let dropPayments: (() => Promise<void>) | undefined;
  let token: string;
  let userId: string;
  const usersDir = mkdtempSync(join(tmpdir(), 'outages-users-'));

  beforeAll(async () => {
    const postgres = realService('postgres', 'e2e outages');
    const payments = postgres ? await createTestDatabase(postgres) : undefined;
    dropPayments = payments?.drop;
    nats = await OwnNatsServer.start();
    redis = await OwnRedisServer.start();
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: randomBytes(32).toString('hex'),
        APOLLO_TELEMETRY_DISABLED: 'true',
        NATS_URL: nats.url,
        REDIS_URL: redis.url,
      },
      serviceEnv: {
        payments: payments ? { PAYMENTS_DATABASE_URL: payments.url } : { PAYMENTS_DATA_DIR: 'memory://' },
        workouts: { WORKOUTS_DATA_DIR: 'memory://' },
        // A data dir, so that users' restart keeps the accounts (as under pnpm start).
        users: {
          MONGODB_URL: process.env.MONGODB_URL
            ? mongoUrlWithOwnDatabase(process.env.MONGODB_URL, 'e2e-outages')
            : undefined,
          USERS_DATA_DIR: usersDir,
        },
      },
    });
    const handle = `out_${randomBytes(3).toString('hex')}`;
    const { body } = await postGraphQL(
      stack.routerUrl,
      'mutation ($i: SignUpInput!) { signUp(input: $i) { token user { id } } }',
      {
        i: {
          email: `${handle}@example.com`,
          password: 'correct horse battery',
          handle,
          displayName: 'Out Age',
        },
      },
    );
    ({
      token,
      user: { id: userId },
    } = (body.data as { signUp: { token: string; user: { id: string } } }).signUp);
    await logWorkout(600);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await nats?.stop();
    await redis?.stop();
    await dropPayments?.();
    rmSync(usersDir, { recursive: true, force: true });
  });

  const logWorkout = async (durationSec: number) => {
    const { body } = await postGraphQL(
      stack.routerUrl,
      'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
      {
        i: {
          id: randomUUID(),
          sport: 'STRENGTH',
          startedAt: new Date().toISOString(),
          durationSec,
          sets: [{ exerciseId: 'barbell-bench-press', reps: 5, weightKg: 60 }],
        },
      },
      bearer(token),
    );
    expect(body.errors).toBeUndefined();
  };

  const dashboard = () => execute(stack.routerUrl, DashboardDocument, {}, token);

  /** The router's log records since `from` (its captured output, JSON lines). */
  const routerLog = (from: number) =>
    stack.services.router.output
      .slice(from)
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  const endpoint = async (name: ServiceName, path: '/ready' | '/health') => {
    const res = await fetch(`${stack.services[name].url}${path}`);
    return {
      status: res.status,
      body: (await res.json()) as { status: string; dependencies?: Record<string, string> },
    };
  };

  it('should answer the whole Dashboard while everything is up', async () => {
    const { status, body } = await dashboard();
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data?.me?.workouts?.edges).toHaveLength(1);
    expect(body.data?.me?.isPremium).toBe(false);
    expect(body.data?.plans?.length).toBeGreaterThan(0);
    expect(body.data?.me?.recommendations).toBeInstanceOf(Array);
  });

  // What each subgraph's outage costs the Dashboard, and what stays.
  const outages: {
    subgraph: ServiceName;
    lost: (string | number)[][];
    kept: (d: DashboardQuery) => unknown[];
  }[] = [
    {
      subgraph: 'payments',
      lost: [['me', 'isPremium'], ['plans']],
      kept: (d) => [d.me?.handle, d.me?.workouts?.edges[0]?.node.id, d.me?.recommendations],
    },
    {
      subgraph: 'recommendations',
      lost: [['me', 'recommendations']],
      kept: (d) => [d.me?.handle, d.me?.isPremium === false, d.me?.workouts?.edges[0], d.plans?.[0]],
    },
    {
      subgraph: 'workouts',
      lost: [['me', 'workouts']],
      kept: (d) => [d.me?.handle, d.me?.isPremium === false, d.plans?.[0]],
    },
    {
      subgraph: 'users',
      lost: [['me']],
      kept: (d) => [d.plans?.[0]],
    },
  ];

  for (const { subgraph, lost, kept } of outages) {
    it(`should keep the rest of the Dashboard while ${subgraph} is down, with a path and a code per lost field`, async () => {
      const logFrom = stack.services.router.output.length;
      await stack.kill(subgraph, 'SIGKILL');
      try {
        for (let i = 0; i < 5; i += 1) {
          const { status, body } = await dashboard();
          expect(status).toBe(200);
          const data = body.data!;
          expect(data).toBeTruthy();
          for (const value of kept(data)) expect(value).toBeTruthy();
          for (const path of lost) {
            let value: unknown = data;
            for (const key of path) value = (value as Record<string | number, unknown> | null)?.[key];
            expect(value ?? null).toBeNull();
          }
          const errors = body.errors ?? [];
          // Every lost field has its error; every error has a path and says why.
          for (const path of lost) {
            expect(
              errors.some((e) => JSON.stringify(e.path?.slice(0, path.length)) === JSON.stringify(path)),
            ).toBe(true);
          }
          for (const error of errors) {
            expect(error.path?.length).toBeGreaterThan(0);
            expect(error.extensions?.code).toBe('SERVICE_UNAVAILABLE');
            expect(JSON.stringify(error)).not.toMatch(/ECONNREFUSED|stack|127\.0\.0\.1/);
          }
        }
        const records = routerLog(logFrom);
        const outageLines = records.filter((r) => String(r.msg).startsWith('subgraph unavailable'));
        expect(outageLines).toHaveLength(1);
        expect(outageLines[0]!.subgraph).toBe(subgraph);
        expect(JSON.stringify(records)).not.toContain('"stack"');
      } finally {
        await stack.restart(subgraph);
      }
      const { body } = await dashboard();
      expect(body.errors).toBeUndefined();
      expect(body.data?.me?.handle).toBeTruthy();
    });
  }

  it('should stay ready and keep taking writes while NATS is down, and deliver the events once it is back', async () => {
    const boardScore = async () => {
      const { body } = await postGraphQL(
        stack.routerUrl,
        '{ leaderboard(board: { metric: DURATION_SEC, period: ALL_TIME, first: 100 }) { entries { score user { id } } } }',
      );
      const entries = (
        body.data as { leaderboard: { entries: { score: number; user: { id: string } | null }[] } }
      ).leaderboard.entries;
      return entries.find((e) => e.user?.id === userId)?.score ?? 0;
    };
    await waitFor(async () => (await boardScore()) === 600, 15_000, 'the first workout on the board');

    await nats.kill();
    for (const name of ['users', 'workouts', 'payments'] as const) {
      await waitFor(
        async () => (await endpoint(name, '/health')).body.dependencies?.bus === 'down',
        15_000,
        `${name} bus down`,
      );
      expect(await endpoint(name, '/ready')).toMatchObject({ status: 200 });
    }
    const metrics = await (await fetch(`${stack.services.payments.url}/metrics`)).text();
    expect(metrics).toContain('service_dependency_up{dependency="bus"} 0');
    expect(metrics).toContain('service_ready 1');
    // The outbox holds the event while the bus is away.
    await logWorkout(300);
    expect((await dashboard()).body.errors).toBeUndefined();

    await nats.launch();
    for (const name of ['users', 'workouts', 'payments'] as const) {
      await waitFor(
        async () => (await endpoint(name, '/health')).body.dependencies?.bus === 'up',
        20_000,
        `${name} bus up`,
      );
    }
    await waitFor(
      async () => (await boardScore()) === 900,
      20_000,
      'the workout logged during the outage on the board',
    );
  });

  it('should stay ready while Redis is down, with the outage in /health and the Dashboard still answered', async () => {
    await redis.kill();
    const expectations: [ServiceName, string][] = [
      ['users', 'signInThrottle'],
      ['workouts', 'leaderboards'],
      ['recommendations', 'cache'],
    ];
    for (const [name, dependency] of expectations) {
      await waitFor(
        async () => (await endpoint(name, '/health')).body.dependencies?.[dependency] === 'down',
        15_000,
        `${name} ${dependency} down`,
      );
      expect(await endpoint(name, '/ready')).toMatchObject({ status: 200 });
    }
    // Recommendations are computed without their cache; profiles, workouts, plans as usual.
    const { body } = await dashboard();
    expect(body, JSON.stringify(body)).toMatchObject({
      data: { me: { recommendations: expect.any(Array) } },
    });
    expect(body.errors).toBeUndefined();

    await redis.launch();
    for (const [name, dependency] of expectations) {
      await waitFor(
        async () => (await endpoint(name, '/health')).body.dependencies?.[dependency] === 'up',
        20_000,
        `${name} ${dependency} up`,
      );
    }
  });
});
