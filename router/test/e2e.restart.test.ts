import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, postGraphQL } from '@fitness/testing';
import { type Stack, startStack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';

/**
 * The path of `pnpm start` on a bare machine, the way a new user meets it on their
 * second day: embedded PGlite + TimescaleDB for workouts, PGlite for payments, the
 * in-process users store, in-process bus and boards, all kept in one data dir, and
 * the whole supergraph stopped and started on it again, gracefully and with kill -9.
 */
describe('the default embedded stores across restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fitness-restart-'));
  const secret = randomBytes(32).toString('hex');
  const email = `restart-${randomBytes(3).toString('hex')}@example.com`;
  const password = 'correct horse battery';
  let stack: Stack | undefined;

  const start = () =>
    startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: secret,
        APOLLO_TELEMETRY_DISABLED: 'true',
        // The defaults of a bare machine: no server for any store.
        NATS_URL: undefined,
        REDIS_URL: undefined,
        MONGODB_URL: undefined,
        WORKOUTS_DATABASE_URL: undefined,
        PAYMENTS_DATABASE_URL: undefined,
      },
      serviceEnv: {
        workouts: { WORKOUTS_DATA_DIR: join(dir, 'workouts') },
        payments: { PAYMENTS_DATA_DIR: join(dir, 'payments') },
        users: { USERS_DATA_DIR: join(dir, 'users') },
      },
    });

  beforeAll(async () => {
    stack = await start();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const { status, body } = await postGraphQL(
      stack!.routerUrl,
      query,
      variables,
      token ? bearer(token) : {},
    );
    return { status, ...body };
  };

  const signIn = async () => {
    const res = await gql('mutation ($i: SignInInput!) { signIn(input: $i) { token user { id } } }', {
      i: { email, password },
    });
    expect(res.errors).toBeUndefined();
    return (res.data as { signIn: { token: string; user: { id: string } } }).signIn;
  };

  const log = (token: string, durationSec: number, id = randomUUID()) =>
    gql(
      'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id durationSec } }',
      { i: { id, sport: 'RUN', title: 'restart', startedAt: new Date().toISOString(), durationSec } },
      token,
    );

  const mine = async (token: string) => {
    const now = new Date();
    const res = await gql(
      `query ($from: DateTime!, $to: DateTime!) { me {
         workouts(first: 100) { edges { node { id durationSec } } }
         stats(bucket: DAY, from: $from, to: $to) { workouts durationSec }
       } }`,
      {
        from: new Date(now.getTime() - 86_400_000 * 2).toISOString(),
        to: new Date(now.getTime() + 86_400_000).toISOString(),
      },
      token,
    );
    expect(res.errors).toBeUndefined();
    const me = (
      res.data as {
        me: {
          workouts: { edges: { node: { id: string; durationSec: number } }[] };
          stats: { workouts: number; durationSec: number }[];
        };
      }
    ).me;
    return {
      ids: me.workouts.edges.map((e) => e.node.id).sort(),
      duration: me.workouts.edges.reduce((s, e) => s + e.node.durationSec, 0),
      statsWorkouts: me.stats.reduce((s, b) => s + b.workouts, 0),
      statsDuration: me.stats.reduce((s, b) => s + b.durationSec, 0),
    };
  };

  const boardScore = async (userId: string) => {
    const res = await gql(
      '{ leaderboard(board: { metric: DURATION_SEC, period: ALL_TIME, first: 100 }) { entries { score user { id } } } }',
    );
    expect(res.errors).toBeUndefined();
    const entries = (res.data as { leaderboard: { entries: { score: number; user: { id: string } }[] } })
      .leaderboard.entries;
    return entries.find((e) => e.user.id === userId)?.score ?? 0;
  };

  it('should keep accounts, workouts, stats and boards, and take writes and deletes, after SIGTERM and after kill -9', async () => {
    // What the router and workouts said, when it fails (their output is captured).
    onTestFailed(() => {
      for (const name of ['router', 'workouts'] as const) {
        console.error(`--- ${name}\n${stack?.services[name].output.join('').slice(-4000)}`);
      }
    });
    const startedAt = Date.now();
    const signedUp = await gql('mutation ($i: SignUpInput!) { signUp(input: $i) { token user { id } } }', {
      i: {
        email,
        password,
        handle: `restart_${randomBytes(3).toString('hex')}`,
        displayName: 'Restart Tester',
      },
    });
    expect(signedUp.errors).toBeUndefined();
    let { token, user } = (signedUp.data as { signUp: { token: string; user: { id: string } } }).signUp;
    const first = await log(token, 600);
    console.log(`first workout logged in ${Date.now() - startedAt} ms`);
    expect(first.errors).toBeUndefined();
    const kept = [(first.data as { logWorkout: { id: string } }).logWorkout.id];
    let duration = 600;

    // 1. A graceful stop (SIGTERM to every service) and a start on the same data.
    await stack!.stop();
    stack = await start();
    ({ token, user } = await signIn());
    expect(await mine(token)).toEqual({
      ids: kept,
      duration,
      statsWorkouts: 1,
      statsDuration: duration,
    });
    const second = await log(token, 900);
    expect(second.errors).toBeUndefined();
    const secondId = (second.data as { logWorkout: { id: string } }).logWorkout.id;
    const deleted = await gql('mutation ($id: ID!) { deleteWorkout(id: $id) }', { id: secondId }, token);
    expect(deleted).toMatchObject({ data: { deleteWorkout: true } });
    expect((await mine(token)).statsDuration).toBe(duration);

    // 2. kill -9 of workouts while four clients keep writing: requests are in flight
    // when it dies, and each client goes on until the kill has happened.
    let killed = false;
    let refused = 0;
    let n = 0;
    const writer = async () => {
      while (!killed) {
        n += 1;
        const seconds = 100 + n;
        const answer = await log(token, seconds);
        const id = (answer.data as { logWorkout?: { id: string } } | null)?.logWorkout?.id;
        if (id) {
          kept.push(id);
          duration += seconds;
        } else {
          // Refused while workouts is gone: the contract's code, never a crash.
          expect(answer.errors?.[0]?.extensions?.code).toMatch(/SERVICE_UNAVAILABLE|INTERNAL_SERVER_ERROR/);
          refused += 1;
        }
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    // Until some writes are acknowledged (a busy machine takes longer than a quiet one),
    // and then a little more, so that others are in flight.
    const before = kept.length;
    const acknowledgedBy = Date.now() + 20_000;
    while (kept.length < before + 2 && Date.now() < acknowledgedBy)
      await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 100));
    await stack!.kill('workouts', 'SIGKILL');
    killed = true;
    await Promise.all(writers);
    expect(kept.length).toBeGreaterThan(1);
    expect(refused).toBeGreaterThan(0);
    await stack!.restart('workouts');

    // Every acknowledged workout is there; others may have committed just before
    // the kill without their answer getting out, and then they are there in full.
    const after = await mine(token);
    expect(after.ids).toEqual(expect.arrayContaining(kept.sort()));
    expect(after.statsWorkouts).toBe(after.ids.length);
    expect(after.statsDuration).toBe(after.duration);

    // Writes and deletes work, and the outbox resumed: the board counts each kept
    // workout exactly once (events left unpublished by the kill included).
    const third = await log(token, 1_000);
    expect(third.errors).toBeUndefined();
    const thirdId = (third.data as { logWorkout: { id: string } }).logWorkout.id;
    const expected = after.duration + 1_000;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await boardScore(user.id)) !== expected) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await boardScore(user.id)).toBe(expected);
    expect(await gql('mutation ($id: ID!) { deleteWorkout(id: $id) }', { id: thirdId }, token)).toMatchObject(
      { data: { deleteWorkout: true } },
    );
    const final = await mine(token);
    expect(final.statsDuration).toBe(after.duration);

    // 3. Everything killed at once (kill -9 of the whole supergraph), then started again.
    for (const name of ['router', 'users', 'workouts', 'payments', 'recommendations'] as const) {
      await stack!.kill(name, 'SIGKILL');
    }
    await stack!.stop();
    stack = await start();
    ({ token } = await signIn());
    expect(await mine(token)).toEqual(final);
    const fourth = await log(token, 50);
    expect(fourth.errors).toBeUndefined();
    expect((await mine(token)).statsDuration).toBe(final.statsDuration + 50);
    const plans = await gql('{ plans { id } }');
    expect(plans.errors).toBeUndefined();
  }, 300_000);
});
