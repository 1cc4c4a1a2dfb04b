import { closeRedis, pingRedis } from '@fitness/redis-kit';
import type { Redis } from 'ioredis';
import type { MuscleGroup } from '../datasources/models.js';
import { escapeGlob, scanKeys } from '../datasources/RecommendationCache.js';
import { DEDUPE_TTL_MS, type FeatureStore } from './FeatureStore.js';
import {
  type CooccurrenceModel,
  decodeSummary,
  deriveFeatures,
  encodeSummary,
  FEATURE_HORIZON_MS,
  summarize,
  type TrainingChange,
  type UserFeatures,
} from './model.js';

/**
 * Dedupe and every write of a change in ONE script, so Redis applies them
 * atomically: a crash between "recorded" and "applied" cannot lose or double an
 * event, and the co-occurrence counts move with the incidence that implies them.
 * An exercise enters a user's set when its count of workouts goes 0 -> 1 (pairs
 * with every exercise already there +1) and leaves at 1 -> 0 (-1), so the counts
 * are a function of the final sets, whatever the order of events.
 *
 * The user's erasure marker (ERASE) makes a late event of a deleted account change
 * nothing (2).
 *
 * KEYS: own marker, opposite marker, workouts hash, times zset, incidence hash,
 *       users hash, pairs hash, groups hash, the user's erasure marker
 * ARGV: kind, marker value, marker ttl ms, now ms, horizon ms, started ms,
 *       workout id, summary, then (exercise id, muscle group) per distinct exercise
 */
const APPLY = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[9]) == 1 then return 2 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local cutoff = tonumber(ARGV[4]) - tonumber(ARGV[5])
local function pair(a, b) if a < b then return a .. '|' .. b end return b .. '|' .. a end
local function bump(field, by)
  if tonumber(redis.call('HINCRBY', KEYS[7], field, by)) == 0 then redis.call('HDEL', KEYS[7], field) end
end
if ARGV[1] == 'logged' then
  if redis.call('EXISTS', KEYS[2]) == 1 or ARGV[2] == 'nosets' then return 1 end
  if tonumber(ARGV[6]) >= cutoff then
    redis.call('HSET', KEYS[3], ARGV[7], ARGV[8])
    redis.call('ZADD', KEYS[4], ARGV[6], ARGV[7])
  end
  local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. cutoff)
  for _, id in ipairs(old) do redis.call('HDEL', KEYS[3], id) end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. cutoff)
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
  redis.call('PEXPIRE', KEYS[4], ARGV[5])
  for i = 9, #ARGV, 2 do
    local e = ARGV[i]
    redis.call('HSET', KEYS[8], e, ARGV[i + 1])
    if tonumber(redis.call('HINCRBY', KEYS[5], e, 1)) == 1 then
      redis.call('HINCRBY', KEYS[6], e, 1)
      local inc = redis.call('HGETALL', KEYS[5])
      for j = 1, #inc, 2 do
        if inc[j] ~= e and tonumber(inc[j + 1]) > 0 then bump(pair(e, inc[j]), 1) end
      end
    end
  end
  return 1
end
redis.call('HDEL', KEYS[3], ARGV[7])
redis.call('ZREM', KEYS[4], ARGV[7])
if redis.call('GET', KEYS[2]) == 'nosets' then return 1 end
for i = 9, #ARGV, 2 do
  local e = ARGV[i]
  local count = tonumber(redis.call('HGET', KEYS[5], e) or '0')
  if count > 1 then
    redis.call('HINCRBY', KEYS[5], e, -1)
  elseif count == 1 then
    redis.call('HDEL', KEYS[5], e)
    if tonumber(redis.call('HINCRBY', KEYS[6], e, -1)) == 0 then redis.call('HDEL', KEYS[6], e) end
    local inc = redis.call('HGETALL', KEYS[5])
    for j = 1, #inc, 2 do
      if tonumber(inc[j + 1]) > 0 then bump(pair(e, inc[j]), -1) end
    end
  end
end
return 1
`;

/**
 * Erases a user in ONE script: the marker APPLY checks, the user's part of the
 * model (each exercise they did counts one user less, each pair of them one less),
 * and their own keys. Returns 1 when the marker is new, 0 when it was there.
 *
 * KEYS: erasure marker, workouts hash, times zset, incidence hash, users hash, pairs hash
 * ARGV: marker ttl ms
 */
const ERASE = `
local fresh = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'GET') == false
local function pair(a, b) if a < b then return a .. '|' .. b end return b .. '|' .. a end
local function drop(hash, field)
  if tonumber(redis.call('HINCRBY', hash, field, -1)) <= 0 then redis.call('HDEL', hash, field) end
end
local inc = redis.call('HGETALL', KEYS[4])
local done = {}
for j = 1, #inc, 2 do
  if tonumber(inc[j + 1]) > 0 then table.insert(done, inc[j]) end
end
for i, e in ipairs(done) do
  drop(KEYS[5], e)
  for k = i + 1, #done do drop(KEYS[6], pair(e, done[k])) end
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if fresh then return 1 end
return 0
`;

type WithApply = Redis & {
  featuresApply(numKeys: number, ...args: (string | number)[]): Promise<number>;
  featuresErase(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

export interface RedisFeatureStoreOptions {
  /** Prepended to every key; tests use it so runs sharing a Redis never collide. @default '' */
  keyPrefix?: string;
}

/**
 * The Redis adapter. Every key carries the hash tag `{recs}`, so the one script
 * can touch a user's keys and the shared model on Redis Cluster too (one slot;
 * the model is small: at most one field per pair of catalogue exercises).
 */
export class RedisFeatureStore implements FeatureStore {
  private readonly prefix: string;
  private readonly redis: WithApply;

  constructor(redis: Redis, options: RedisFeatureStoreOptions = {}) {
    this.prefix = `${options.keyPrefix ?? ''}{recs}:`;
    if (!('featuresApply' in redis)) redis.defineCommand('featuresApply', { lua: APPLY });
    if (!('featuresErase' in redis)) redis.defineCommand('featuresErase', { lua: ERASE });
    this.redis = redis as WithApply;
  }

  private userKeys(userId: string) {
    return {
      workouts: `${this.prefix}workouts:${userId}`,
      times: `${this.prefix}times:${userId}`,
      incidence: `${this.prefix}incidence:${userId}`,
      erased: `${this.prefix}erased:${userId}`,
    };
  }

  async apply(change: TrainingChange, now = new Date()): Promise<'applied' | 'duplicate' | 'erased'> {
    const u = this.userKeys(change.userId);
    const opposite = change.kind === 'logged' ? 'deleted' : 'logged';
    const keys = [
      `${this.prefix}applied:${change.workoutId}:${change.kind}`,
      `${this.prefix}applied:${change.workoutId}:${opposite}`,
      u.workouts,
      u.times,
      u.incidence,
      `${this.prefix}users`,
      `${this.prefix}pairs`,
      `${this.prefix}groups`,
      u.erased,
    ];
    const exercises = new Map((change.sets ?? []).map((s) => [s.exerciseId, s.muscleGroup]));
    const args: (string | number)[] = [
      change.kind,
      change.sets === null ? 'nosets' : 'sets',
      DEDUPE_TTL_MS,
      now.getTime(),
      FEATURE_HORIZON_MS,
      change.startedAt.getTime(),
      change.workoutId,
      encodeSummary(summarize(change)),
    ];
    for (const [e, g] of exercises) args.push(e, g);
    const applied = await this.redis.featuresApply(keys.length, ...keys, ...args);
    if (applied === 2) return 'erased';
    return applied === 1 ? 'applied' : 'duplicate';
  }

  async eraseUser(userId: string): Promise<'applied' | 'duplicate'> {
    const u = this.userKeys(userId);
    const keys = [u.erased, u.workouts, u.times, u.incidence, `${this.prefix}users`, `${this.prefix}pairs`];
    const fresh = await this.redis.featuresErase(keys.length, ...keys, DEDUPE_TTL_MS);
    return fresh === 1 ? 'applied' : 'duplicate';
  }

  async features(userId: string, now = new Date()): Promise<UserFeatures> {
    const stored = await this.redis.hgetall(this.userKeys(userId).workouts);
    return deriveFeatures(
      userId,
      Object.entries(stored).map(([id, text]) => decodeSummary(id, text)),
      now,
    );
  }

  async exercisesOf(userId: string): Promise<Set<string>> {
    const inc = await this.redis.hgetall(this.userKeys(userId).incidence);
    return new Set(
      Object.entries(inc)
        .filter(([, n]) => Number(n) > 0)
        .map(([e]) => e),
    );
  }

  async model(): Promise<CooccurrenceModel> {
    const [users, pairs, groups] = (await this.redis
      .multi()
      .hgetall(`${this.prefix}users`)
      .hgetall(`${this.prefix}pairs`)
      .hgetall(`${this.prefix}groups`)
      .exec()) as [Error | null, Record<string, string>][];
    for (const [err] of [users!, pairs!, groups!]) if (err) throw err;
    const numbers = (h: Record<string, string>) =>
      new Map(Object.entries(h).map(([k, v]) => [k, Number(v)] as [string, number]));
    const counts = numbers(users![1]);
    // As in process: only the groups of exercises someone does, so a rebuild answers the same.
    const known = (Object.entries(groups![1]) as [string, MuscleGroup][]).filter(([e]) => counts.has(e));
    return { users: counts, pairs: numbers(pairs![1]), groups: new Map(known) };
  }

  async userIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const kind of ['workouts', 'incidence']) {
      const start = `${this.prefix}${kind}:`;
      await scanKeys(this.redis, `${escapeGlob(start)}*`, async (keys) => {
        for (const key of keys) ids.add(key.slice(start.length));
      });
    }
    return ids;
  }

  async clear(): Promise<void> {
    await scanKeys(this.redis, `${escapeGlob(this.prefix)}*`, async (keys) => {
      await this.redis.del(...keys);
    });
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}
