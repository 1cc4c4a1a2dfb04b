import { randomUUID } from 'node:crypto';
import { createTokenIssuer, createTokenVerifier } from '@fitness/auth';
import { createEnvelope, InProcessEventBus } from '@fitness/events';
import { ROUTER_SECRET_HEADER, serve } from '@fitness/server-kit';
import { uniquePrefix } from '@fitness/testing';
import { type Client, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createContext } from '../../src/context.js';
import type { WorkoutsStore } from '../../src/datasources/WorkoutsStore.js';
import type { WorkoutChange } from '../../src/leaderboards/model.js';
import { startLeaderboards } from '../../src/leaderboards/wire.js';
import { createWorkoutsServer } from '../../src/server.js';
import { change, logger, redisTestUrl, until } from './helpers.js';

const tokens = {
  secret: 'leaderboard-test-secret-of-at-least-32-bytes!',
  issuer: 'fitness-users',
  audience: 'fitness-api',
};
const verify = createTokenVerifier(tokens);
const issue = createTokenIssuer({ ...tokens, ttlSeconds: 600 });
const ROUTER_SECRET = 'b7e2c9f4a1d6083e5c7b9a2f4d1e6c8b0a3f5e7d9c1b4a6e8f0d2c5b7a9e1f3d';
/** What the router puts in every connection_init: its secret (see trustedHop.ts). */
const fromRouter = { [ROUTER_SECRET_HEADER]: ROUTER_SECRET };
// Leaderboard operations never touch the workouts database.
const noWorkouts = {} as WorkoutsStore;

interface Instance {
  bus: InProcessEventBus;
  wsUrl: string;
  httpUrl: string;
  live: Awaited<ReturnType<typeof startLeaderboards>>['live'];
  stop(): Promise<void>;
}

const instances: Instance[] = [];
const clients: Client[] = [];

/** A real workouts HTTP + WebSocket server on port 0, with its own bus (its consumer) and shared Redis. */
async function startInstance(
  prefix: string | undefined,
  maxUpdatesPerSecond = 4,
  production = false,
): Promise<Instance> {
  const bus = new InProcessEventBus();
  const leaderboards = await startLeaderboards({
    redisUrl: prefix ? redisTestUrl : undefined,
    maxUpdatesPerSecond,
    bus,
    verify,
    routerSecret: ROUTER_SECRET,
    production,
    logger,
    context: (viewer, live) => createContext(viewer, noWorkouts, logger, live),
    ...(prefix ? { keyPrefix: prefix } : {}),
  });
  const served = await serve({
    logger,
    apollo: createWorkoutsServer(logger),
    routerSecret: ROUTER_SECRET,
    authenticate: async () => ({ userId: null, region: null }),
    context: (viewer) => createContext(viewer, noWorkouts, logger, leaderboards.live),
    ready: leaderboards.ready,
    host: '127.0.0.1',
    port: 0,
    onServer: leaderboards.attach,
    closeStores: () => leaderboards.close(),
  });
  const instance = {
    bus,
    live: leaderboards.live,
    httpUrl: served.url,
    wsUrl: served.url.replace(/^http/, 'ws'),
    async stop() {
      await leaderboards.stop();
      await served.stop();
      await bus.close();
    },
  };
  instances.push(instance);
  return instance;
}

afterAll(async () => {
  for (const c of clients) await c.dispose();
  for (const i of instances) await i.stop();
});

function publish(bus: InProcessEventBus, c: WorkoutChange) {
  return bus.publish(
    createEnvelope(
      c.kind === 'logged' ? 'workouts.logged' : 'workouts.deleted',
      1,
      {
        workoutId: c.workoutId,
        userId: c.userId,
        region: c.region,
        startedAt: c.startedAt.toISOString(),
        sport: 'RUN',
        durationSec: c.durationSec,
        volumeKg: c.volumeKg,
        distanceM: c.distanceM,
        calories: c.calories,
      },
      { producer: 'workouts' },
    ),
  );
}

const SUBSCRIBE = `subscription ($board: LeaderboardInput!) {
  leaderboardUpdated(board: $board) {
    metric period region periodStart updatedAt
    entries { rank score user { id } }
  }
}`;

interface Snapshot {
  metric: string;
  period: string;
  region: string | null;
  periodStart: string | null;
  updatedAt: string;
  entries: { rank: number; score: number; user: { id: string } }[];
}

/** Subscribes over a real graphql-ws client and records every event. */
function watch(url: string, board: Record<string, unknown>, token?: string) {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { ...fromRouter, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  clients.push(client);
  const events: Snapshot[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const unsubscribe = client.subscribe<{ leaderboardUpdated: Snapshot }>(
    { query: SUBSCRIBE, variables: { board } },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) events.push(result.data.leaderboardUpdated);
      },
      error: (error) => errors.push(error),
      complete: () => {
        completed = true;
      },
    },
  );
  return {
    events,
    errors,
    unsubscribe,
    completed: () => completed,
    /** Waits for an event matching the predicate; returns it. */
    async until(ok: (s: Snapshot) => boolean) {
      await until(
        () => events.length > 0 && ok(events.at(-1)!),
        (v) => v,
      );
      return events.at(-1)!;
    },
  };
}

const scores = (s: Snapshot) => s.entries.map((e) => [e.user.id, e.score]);

describe(`leaderboardUpdated over graphql-ws (${redisTestUrl ? 'redis' : 'in-process'})`, () => {
  const prefix = redisTestUrl ? uniquePrefix('lb-ws') : undefined;
  const board = { metric: 'VOLUME_KG', period: 'WEEK', first: 3 };

  afterAll(async () => {
    if (!redisTestUrl || !prefix) return;
    const redis = new Redis(redisTestUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('should send the current snapshot first, then a new one when a workout is logged', async () => {
    const a = await startInstance(prefix);
    await publish(a.bus, change({ userId: 'ann', volumeKg: 100, region: 'EU' }));
    await until(
      () => a.live.snapshot(board as never),
      (s) => s.entries.length === 1,
    );
    const token = (await issue({ userId: 'viewer', region: 'EU' })).token;
    const sub = watch(a.wsUrl, board, token);
    const first = await sub.until(() => true);
    expect(first).toMatchObject({ metric: 'VOLUME_KG', period: 'WEEK', region: null });
    expect(new Date(first.periodStart!).getUTCDay()).toBe(1); // a Monday
    expect(scores(first)).toEqual([['ann', 100]]);
    await publish(a.bus, change({ userId: 'bob', volumeKg: 250, region: 'US' }));
    const next = await sub.until((s) => s.entries.length === 2);
    expect(next.entries).toEqual([
      { rank: 1, score: 250, user: { id: 'bob' } },
      { rank: 2, score: 100, user: { id: 'ann' } },
    ]);
    expect(sub.errors).toEqual([]);
  });

  it('should coalesce a burst of changes into a few snapshots, the last one correct', async () => {
    const a = await startInstance(prefix, 2);
    const burstBoard = { metric: 'WORKOUTS', period: 'DAY', region: 'APAC', first: 5 };
    const sub = watch(a.wsUrl, burstBoard);
    await sub.until(() => true);
    const before = sub.events.length;
    const user = `burst-${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 10; i++) await publish(a.bus, change({ userId: user, region: 'APAC' }));
    const last = await sub.until((s) => s.entries.some((e) => e.user.id === user && e.score === 10));
    expect(last.entries.find((e) => e.user.id === user)?.score).toBe(10);
    // At most one leading and one trailing snapshot per interval while events arrive.
    expect(sub.events.length - before).toBeLessThanOrEqual(4);
    expect(sub.events.length - before).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!redisTestUrl)('should reach subscribers of another replica through Redis pub/sub', async () => {
    const a = await startInstance(prefix);
    const b = await startInstance(prefix);
    const crossBoard = { metric: 'CALORIES', period: 'MONTH', region: 'EU', first: 10 };
    const sub = watch(b.wsUrl, crossBoard);
    await sub.until(() => true);
    const user = `cross-${randomUUID().slice(0, 6)}`;
    // Only A's consumer sees this event (its own bus); B learns of it from the notice.
    await publish(a.bus, change({ userId: user, region: 'EU', calories: 777 }));
    const seen = await sub.until((s) => s.entries.some((e) => e.user.id === user));
    expect(seen.entries.find((e) => e.user.id === user)?.score).toBe(777);
  });

  /** The close code of a raw connection that sends `payload` in connection_init. */
  const closeCodeFor = (url: string, payload: Record<string, unknown>) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, 'graphql-transport-ws');
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload })));
      ws.on('close', (c) => resolve(c));
    });

  it('should refuse a bad token with 4403 at connect time and accept anonymous sockets', async () => {
    const a = instances[0] ?? (await startInstance(prefix));
    expect(await closeCodeFor(a.wsUrl, { ...fromRouter, authorization: 'Bearer not-a-token' })).toBe(4403);
    const anonymous = watch(a.wsUrl, board);
    expect((await anonymous.until(() => true)).metric).toBe('VOLUME_KG');
  });

  it('should refuse a connection without the router secret, or with a wrong one, with 4403', async () => {
    const a = instances[0] ?? (await startInstance(prefix));
    const token = (await issue({ userId: 'viewer', region: 'EU' })).token;
    expect(await closeCodeFor(a.wsUrl, {})).toBe(4403);
    expect(await closeCodeFor(a.wsUrl, { authorization: `Bearer ${token}` })).toBe(4403);
    expect(await closeCodeFor(a.wsUrl, { [ROUTER_SECRET_HEADER]: `${ROUTER_SECRET.slice(1)}0` })).toBe(4403);
    expect(await closeCodeFor(a.wsUrl, { [ROUTER_SECRET_HEADER]: 42 })).toBe(4403);
  });

  it('should refuse introspection over graphql-ws in production, as over HTTP', async () => {
    const introspect = async (instance: Instance) => {
      const client = createClient({
        url: instance.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: fromRouter,
      });
      clients.push(client);
      const result = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: '{ __schema { queryType { name } } }' },
          { next: resolve, error: resolve, complete: () => {} },
        );
      });
      return result;
    };
    const development = await startInstance(undefined);
    expect(await introspect(development)).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const production = await startInstance(undefined, 4, true);
    const refused = (await introspect(production)) as { message?: string }[];
    expect(refused[0]?.message).toMatch(/introspection/i);
  });

  it('should answer an out-of-range first with BAD_USER_INPUT', async () => {
    const a = instances[0] ?? (await startInstance(prefix));
    const sub = watch(a.wsUrl, { ...board, first: 101 });
    await until(
      () => sub.errors.length + (sub.completed() ? 1 : 0),
      (n) => n > 0,
    );
    expect(sub.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
  });

  it('should drop the subscriber and its group when the client unsubscribes', async () => {
    const a = await startInstance(prefix);
    const sub = watch(a.wsUrl, { metric: 'DISTANCE_M', period: 'ALL_TIME', first: 1 });
    await sub.until(() => true);
    expect(a.live.stats()).toEqual({ groups: 1, subscribers: 1 });
    sub.unsubscribe();
    await until(
      () => a.live.stats(),
      (s) => s.subscribers === 0 && s.groups === 0,
    );
  });
});
