import { randomBytes, randomUUID } from 'node:crypto';
import { bearer, postGraphQL } from '@fitness/testing';
import { type Stack, startStack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      eventHub: true,
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: randomBytes(32).toString('hex'),
        APOLLO_TELEMETRY_DISABLED: 'true',
        NATS_URL: undefined,
        REDIS_URL: undefined,
      },
      serviceEnv: {
        payments: { PAYMENTS_DATA_DIR: 'memory://' },
        workouts: { WORKOUTS_DATA_DIR: 'memory://' },
        users: { USERS_DATA_DIR: 'memory://', MONGODB_URL: undefined },
      },
    });
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
  });

  it('should deliver what was published while a consumer was down once it is back', async () => {
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
    const bus = stack.eventBus!;
    const consumers = async () => (await bus.consumerState('recommendations'))?.pending ?? -1;
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
});
