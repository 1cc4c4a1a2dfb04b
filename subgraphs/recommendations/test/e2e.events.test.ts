import { randomBytes, randomUUID } from 'node:crypto';
import {
  bearer,
  mongoUrlWithOwnDatabase,
  OwnNatsServer,
  OwnRedisServer,
  postGraphQL,
  realService,
} from '@fitness/testing';
import { type Stack, startStack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RECS = '{ me { recommendations(first: 20) { id kind reason exercise { id name } generatedAt } } }';
const LOG = 'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }';
const SIGN_UP = 'mutation ($i: SignUpInput!) { signUp(input: $i) { token } }';

interface Rec {
  id: string;
  kind: string;
  reason: string;
  exercise: { id: string; name: string } | null;
  generatedAt: string;
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Gated like the other real-server suites; the servers themselves are this suite's own,
// because the services use the default stream and key names.
const enabled = Boolean(
  realService('redis', 'recommendations e2e') && realService('nats', 'recommendations e2e'),
);

/**
 * The production path through real processes: logWorkout through the router, the
 * workouts outbox relay publishing v2 events on NATS JetStream, the recommendations
 * consumer updating Redis and storing advice, and `me.recommendations` through the
 * router, the exercise resolved by workouts.
 */
describe.skipIf(!enabled)('recommendations fed by workouts over NATS, end to end', () => {
  let nats: OwnNatsServer;
  let redis: OwnRedisServer;
  let stack: Stack;

  beforeAll(async () => {
    nats = await OwnNatsServer.start();
    redis = await OwnRedisServer.start();
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: randomBytes(32).toString('hex'),
        ROUTER_SUBGRAPH_SECRET: randomBytes(32).toString('hex'),
        APOLLO_TELEMETRY_DISABLED: 'true',
        NATS_URL: nats.url,
      },
      serviceEnv: {
        payments: { PAYMENTS_DATA_DIR: 'memory://' },
        workouts: { WORKOUTS_DATA_DIR: 'memory://', REDIS_URL: redis.url },
        recommendations: { REDIS_URL: redis.url },
        users: {
          USERS_DATA_DIR: 'memory://',
          MONGODB_URL:
            process.env.MONGODB_URL &&
            mongoUrlWithOwnDatabase(process.env.MONGODB_URL, 'e2e-recommendations-events'),
        },
      },
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await nats?.stop();
    await redis?.stop();
  });

  const signUp = async () => {
    const handle = `recs_${randomBytes(4).toString('hex')}`;
    const { body } = await postGraphQL<{ signUp: { token: string } }>(stack.routerUrl, SIGN_UP, {
      i: {
        email: `${handle}@example.com`,
        password: 'correct horse battery',
        handle,
        displayName: 'R',
        region: 'EU',
      },
    });
    expect(body.errors).toBeUndefined();
    return body.data!.signUp.token;
  };

  const log = async (
    token: string,
    daysAgo: number,
    sets: { exerciseId: string; reps: number; weightKg: number }[],
  ) => {
    const id = randomUUID();
    const { body } = await postGraphQL(
      stack.routerUrl,
      LOG,
      {
        i: {
          id,
          sport: 'STRENGTH',
          startedAt: new Date(Date.now() - daysAgo * 86_400_000).toISOString(),
          durationSec: 3600,
          sets,
        },
      },
      bearer(token),
    );
    expect(body.errors).toBeUndefined();
    return id;
  };

  const recommendations = async (token: string) => {
    const { body } = await postGraphQL<{ me: { recommendations: Rec[] | null } }>(
      stack.routerUrl,
      RECS,
      {},
      bearer(token),
    );
    expect(body.errors).toBeUndefined();
    return body.data!.me.recommendations ?? [];
  };

  const bench = (weightKg: number) =>
    [1, 2, 3].map(() => ({ exerciseId: 'barbell-bench-press', reps: 8, weightKg }));

  it('should turn logged workouts into advice within seconds, every kind included, and follow a deletion', async () => {
    // Peers who pair the bench press with the incline press teach the model.
    for (let i = 0; i < 3; i++) {
      const peer = await signUp();
      await log(peer, 2, [...bench(50), { exerciseId: 'incline-dumbbell-press', reps: 10, weightKg: 20 }]);
    }
    const token = await signUp();
    const ids = [];
    for (const d of [7, 5, 3]) ids.push(await log(token, d, bench(60)));
    ids.push(await log(token, 1, bench(60)));
    const advice = await until(
      () => recommendations(token),
      (r) => r.some((a) => a.kind === 'PROGRESSIVE_OVERLOAD') && r.some((a) => a.kind === 'TRY_EXERCISE'),
      'overload and new-exercise advice',
    );
    expect(advice.find((a) => a.kind === 'PROGRESSIVE_OVERLOAD')).toMatchObject({
      exercise: { id: 'barbell-bench-press', name: 'Barbell Bench Press' },
      reason: expect.stringContaining('Try 62.5 kg next time (+2.5 kg)'),
    });
    expect(advice.find((a) => a.kind === 'TRY_EXERCISE')!.exercise).toEqual({
      id: 'incline-dumbbell-press',
      name: 'Incline Dumbbell Press',
    });

    // Two deletions leave two sessions at 60 kg: too few to advise more weight.
    for (const id of ids.slice(0, 2)) {
      const { body } = await postGraphQL(
        stack.routerUrl,
        'mutation ($id: ID!) { deleteWorkout(id: $id) }',
        { id },
        bearer(token),
      );
      expect(body.errors).toBeUndefined();
    }
    await until(
      () => recommendations(token),
      (r) => !r.some((a) => a.kind === 'PROGRESSIVE_OVERLOAD'),
      'the deletions to reach the advice',
    );
  }, 60_000);
});
