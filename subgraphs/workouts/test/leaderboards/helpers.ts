import { randomUUID } from 'node:crypto';
import { createLogger } from '@fitness/server-kit';
import { realService, uniquePrefix } from '@fitness/testing';
import { Redis } from 'ioredis';
import type { LeaderboardStore } from '../../src/leaderboards/LeaderboardStore.js';
import { MemoryLeaderboardStore } from '../../src/leaderboards/MemoryLeaderboardStore.js';
import type { WorkoutChange } from '../../src/leaderboards/model.js';
import { type BoardNotices, MemoryBoardNotices, RedisBoardNotices } from '../../src/leaderboards/notices.js';
import { RedisLeaderboardStore } from '../../src/leaderboards/RedisLeaderboardStore.js';

export const logger = createLogger('leaderboards-test', 'silent');

export interface Engine {
  name: 'in-process' | 'redis';
  /** A fresh, empty store and notices (Redis: under a key prefix no other run uses). */
  open(prefix?: string): { store: LeaderboardStore; notices: BoardNotices; redis?: Redis };
}

const redisUrl = realService('redis', 'leaderboards');

/** The adapters every contract suite runs over: in-process always, Redis when configured. */
export function engines(): Engine[] {
  const list: Engine[] = [
    {
      name: 'in-process',
      open: () => ({ store: new MemoryLeaderboardStore(), notices: new MemoryBoardNotices() }),
    },
  ];
  if (redisUrl) {
    list.push({
      name: 'redis',
      open(prefix = uniquePrefix('lb')) {
        const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        const store = new RedisLeaderboardStore(redis, { keyPrefix: prefix });
        // Closing a test store also removes its keys: ALL_TIME boards never expire.
        const close = store.close.bind(store);
        store.close = async () => {
          const keys = await redis.keys(`${prefix}*`);
          if (keys.length > 0) await redis.del(...keys);
          await close();
        };
        return { redis, store, notices: new RedisBoardNotices(redis, logger, { keyPrefix: prefix }) };
      },
    });
  }
  return list;
}

export const redisTestUrl = redisUrl;

export function change(patch: Partial<WorkoutChange> = {}): WorkoutChange {
  return {
    kind: 'logged',
    eventId: randomUUID(),
    workoutId: randomUUID(),
    userId: `u-${randomUUID().slice(0, 8)}`,
    region: 'EU',
    startedAt: new Date(),
    durationSec: 1800,
    volumeKg: 1000,
    distanceM: 0,
    calories: 300,
    ...patch,
  };
}

/** The same workout leaving the boards (a new event id, same totals). */
export const deletion = (c: WorkoutChange): WorkoutChange => ({
  ...c,
  kind: 'deleted',
  eventId: randomUUID(),
});

export async function until<T>(
  probe: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
