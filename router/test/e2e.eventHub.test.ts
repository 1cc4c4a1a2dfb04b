import { randomBytes, randomUUID } from 'node:crypto';
import { bearer, postGraphQL } from '@fitness/testing';
import type { Stack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubStack } from './hubStack.js';

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `pnpm start` on a bare machine: no NATS, no Redis. The launcher hosts one event bus
 * and every service reaches it over IPC, so workouts' events reach recommendations
 * (another process) as they would over NATS, and a service that restarts picks up
 * what was published while it was down.
 */
describe('events between services without NATS (the launcher event hub)', () => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    stack = await startHubStack();
    const handle = `hub_${randomBytes(3).toString('hex')}`;
    const { body } = await postGraphQL<{ signUp: { token: string } }>(
      stack.routerUrl,
      'mutation ($i: SignUpInput!) { signUp(input: $i) { token } }',
      {
        i: { email: `${handle}@example.com`, password: 'correct horse battery', handle, displayName: 'Hub' },
      },
    );
    token = body.data!.signUp.token;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const logBench = async (daysAgo: number) => {
    const { body } = await postGraphQL(
      stack.routerUrl,
      'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
      {
        i: {
          id: randomUUID(),
          sport: 'STRENGTH',
          startedAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
          durationSec: 3600,
          sets: [1, 2, 3].map(() => ({ exerciseId: 'barbell-bench-press', reps: 8, weightKg: 60 })),
        },
      },
      bearer(token),
    );
    expect(body.errors).toBeUndefined();
  };

  const kinds = async () => {
    const { body } = await postGraphQL<{ me: { recommendations: { kind: string }[] | null } }>(
      stack.routerUrl,
      '{ me { recommendations(first: 20) { kind } } }',
      {},
      bearer(token),
    );
    return (body.data?.me.recommendations ?? []).map((r) => r.kind);
  };

  it("should feed recommendations from workouts' events, across processes", async () => {
    for (const days of [7, 5, 3, 1]) await logBench(days);
    // Only the event-fed model gives this advice: the @requires fallback cannot.
    await until(kinds, (k) => k.includes('PROGRESSIVE_OVERLOAD'), 'overload advice from the events');
    // And it does not claim at start-up that no events reach it (NATS_URL is unset here).
    expect(stack.services.recommendations.output.join('')).not.toContain('no workout events reach');
  });

  it('should deliver what was published while a consumer was down once it is back', async () => {
    const bus = stack.eventBus!;
    const consumers = async () => (await bus.consumerState('recommendations'))?.pending ?? -1;
    // What the test before published is all taken and acknowledged (its advice can show
    // before its last event is).
    await until(
      async () => (await bus.consumerState('recommendations')) ?? { pending: -1, ackPending: -1 },
      (state) => state.pending === 0 && state.ackPending === 0,
      'the earlier events to be taken',
    );
    await stack.kill('recommendations', 'SIGKILL');
    // A heavier session: overload advice goes (the new load has one session only).
    const { body } = await postGraphQL(
      stack.routerUrl,
      'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
      {
        i: {
          id: randomUUID(),
          sport: 'STRENGTH',
          startedAt: new Date().toISOString(),
          durationSec: 3600,
          sets: [1, 2, 3].map(() => ({ exerciseId: 'barbell-bench-press', reps: 8, weightKg: 62.5 })),
        },
      },
      bearer(token),
    );
    expect(body.errors).toBeUndefined();
    // The event waits for the consumer, in the launcher's bus.
    await until(consumers, (pending) => pending === 1, 'the event to wait for the stopped consumer');
    await stack.restart('recommendations');
    await until(consumers, (pending) => pending === 0, 'the restarted consumer to take it');
    expect(await bus.consumerState('recommendations')).toMatchObject({ pending: 0, ackPending: 0 });
    // Its read model is in process (no Redis): what it knows now is that workout.
    await until(
      kinds,
      (k) => k.length > 0 && !k.includes('PROGRESSIVE_OVERLOAD'),
      'advice from the missed event',
    );
  });

  it('should carry an account deletion to every service: its token refused by the router, its board entry gone, every erasure consumer done', async () => {
    const handle = `gone_${randomBytes(3).toString('hex')}`;
    const signUp = await postGraphQL<{ signUp: { token: string; user: { id: string } } }>(
      stack.routerUrl,
      'mutation ($i: SignUpInput!) { signUp(input: $i) { token user { id } } }',
      {
        i: { email: `${handle}@example.com`, password: 'correct horse battery', handle, displayName: 'Gone' },
      },
    );
    const { token: doomed, user } = signUp.body.data!.signUp;
    const board = async () => {
      const { body } = await postGraphQL<{ leaderboard: { entries: { user: { id: string } | null }[] } }>(
        stack.routerUrl,
        'query ($b: LeaderboardInput!) { leaderboard(board: $b) { entries { user { id } } } }',
        { b: { metric: 'WORKOUTS', period: 'WEEK', first: 100 } },
      );
      return body.data!.leaderboard.entries.map((e) => e.user?.id);
    };
    await postGraphQL(
      stack.routerUrl,
      'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
      { i: { id: randomUUID(), sport: 'RUN', startedAt: new Date().toISOString(), durationSec: 1800 } },
      bearer(doomed),
    );
    await until(board, (ids) => ids.includes(user.id), 'the workout on the board');
    const deleted = await postGraphQL(
      stack.routerUrl,
      'mutation ($p: String!) { deleteAccount(password: $p) }',
      { p: 'correct horse battery' },
      bearer(doomed),
    );
    expect(deleted.body).toEqual({ data: { deleteAccount: true } });
    // No Redis: the router's own list learns it from users.deleted through the hub.
    await until(
      async () => (await postGraphQL(stack.routerUrl, '{ me { id } }', {}, bearer(doomed))).status,
      (status) => status === 401,
      'the router to refuse the token',
    );
    await until(board, (ids) => !ids.includes(user.id), 'the board entry to go');
    const pending = async () => {
      let total = 0;
      for (const name of [
        'workouts-erasure',
        'payments-erasure',
        'recommendations-erasure',
        'users-erasure',
      ]) {
        const state = await stack.eventBus!.consumerState(name);
        total += (state?.pending ?? 1) + (state?.ackPending ?? 0);
      }
      return total;
    };
    await until(pending, (n) => n === 0, 'every service to erase it');
    // The other account of this suite is still served.
    expect((await postGraphQL(stack.routerUrl, '{ me { id } }', {}, bearer(token))).status).toBe(200);
  });
});
