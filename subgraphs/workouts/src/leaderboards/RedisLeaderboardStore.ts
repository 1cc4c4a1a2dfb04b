import { randomBytes } from 'node:crypto';
import { closeRedis, pingRedis } from '@fitness/redis-kit';
import type { Redis } from 'ioredis';
import { boardId, expiresAt, liveBoards, planChange, scoreOf } from './boards.js';
import { DEDUPE_TTL_MS, type LeaderboardStore } from './LeaderboardStore.js';
import type { ApplyResult, BoardRef, BoardTop, WorkoutChange } from './model.js';

export interface RedisLeaderboardStoreOptions {
  /** Prepended to every key and channel; tests use it so runs sharing a Redis never collide. @default '' */
  keyPrefix?: string;
}

/**
 * Dedupe and apply in ONE script, so Redis runs them atomically: the marker of
 * (workout, kind) and every ZINCRBY commit together or not at all. A
 * processed-events table in the workouts database could not commit with Redis
 * writes: recording first loses the event when the process dies before the
 * ZINCRBYs, recording after double counts it when it dies in between.
 *
 * Members are stored with the NEGATED total: ZRANGE then lists the best first
 * and, among equal scores, the lower user id first (Redis orders ties by member).
 * A member back at exactly 0 (integer thousandths: exact) is removed.
 *
 * The erasure marker of the user (ERASE) makes the event of an erased user change
 * nothing: a late workout of a deleted account never reappears on a board.
 *
 * KEYS: marker, board_1..board_n, updated_1..updated_n, the user's erasure marker
 * ARGV: user id, event id, marker ttl ms, now ms, then (delta, expire-at ms or 0) per board
 */
const APPLY = `
if redis.call('EXISTS', KEYS[#KEYS]) == 1 then return 2 end
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 0 end
local n = (#KEYS - 2) / 2
for i = 1, n do
  local board = KEYS[1 + i]
  local updated = KEYS[1 + n + i]
  local delta = ARGV[3 + 2 * i]
  local expireAt = ARGV[4 + 2 * i]
  local score = tonumber(redis.call('ZINCRBY', board, -tonumber(delta), ARGV[1]))
  if score == 0 then redis.call('ZREM', board, ARGV[1]) end
  if expireAt ~= '0' then
    redis.call('PEXPIREAT', board, expireAt)
    redis.call('SET', updated, ARGV[4], 'PXAT', expireAt)
  else
    redis.call('SET', updated, ARGV[4])
  end
end
return 1
`;

/**
 * Erases a user in ONE script: the erasure marker (which APPLY checks) and the
 * removal from every live board commit together, so no event can slip in between.
 * Returns the positions of the boards the user was on.
 *
 * KEYS: the user's erasure marker, board_1..board_n, updated_1..updated_n
 * ARGV: user id, marker ttl ms, now ms
 */
const ERASE = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
local n = (#KEYS - 1) / 2
local changed = {}
for i = 1, n do
  if redis.call('ZREM', KEYS[1 + i], ARGV[1]) == 1 then
    redis.call('SET', KEYS[1 + n + i], ARGV[3], 'KEEPTTL')
    table.insert(changed, i)
  end
end
return changed
`;

/** The client with the scripts defined (ioredis sends EVALSHA, falling back to EVAL once). */
type WithApply = Redis & {
  leaderboardApply(numKeys: number, ...args: (string | number)[]): Promise<number>;
  leaderboardErase(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
};

/**
 * The Redis adapter. Every key carries the hash tag `{lb}`, so one script can
 * touch all the boards of a workout on Redis Cluster too (one slot; a board set
 * is small: 80 boards per period).
 */
export class RedisLeaderboardStore implements LeaderboardStore {
  private readonly prefix: string;
  private readonly redis: WithApply;

  constructor(redis: Redis, options: RedisLeaderboardStoreOptions = {}) {
    this.prefix = `${options.keyPrefix ?? ''}{lb}:`;
    if (!('leaderboardApply' in redis)) redis.defineCommand('leaderboardApply', { lua: APPLY });
    if (!('leaderboardErase' in redis)) redis.defineCommand('leaderboardErase', { lua: ERASE });
    this.redis = redis as WithApply;
  }

  private boardKey(id: string): string {
    return `${this.prefix}board:${id}`;
  }

  private updatedKey(id: string): string {
    return `${this.prefix}updated:${id}`;
  }

  private erasedKey(userId: string): string {
    return `${this.prefix}erased:${userId}`;
  }

  async apply(change: WorkoutChange, now = new Date()): Promise<ApplyResult> {
    const deltas = planChange(change, now);
    const keys = [
      `${this.prefix}applied:${change.workoutId}:${change.kind}`,
      ...deltas.map((d) => this.boardKey(d.id)),
      ...deltas.map((d) => this.updatedKey(d.id)),
      this.erasedKey(change.userId),
    ];
    const args = [change.userId, change.eventId, DEDUPE_TTL_MS, now.getTime()];
    for (const d of deltas) args.push(d.delta, d.expiresAt?.getTime() ?? 0);
    const applied = await this.redis.leaderboardApply(keys.length, ...keys, ...args);
    if (applied === 2) return { outcome: 'erased', boards: [] };
    return applied === 1
      ? { outcome: 'applied', boards: deltas.map((d) => d.id) }
      : { outcome: 'duplicate', boards: [] };
  }

  async eraseUser(userId: string, now = new Date()): Promise<string[]> {
    const ids = liveBoards(now).map(boardId);
    const keys = [
      this.erasedKey(userId),
      ...ids.map((id) => this.boardKey(id)),
      ...ids.map((id) => this.updatedKey(id)),
    ];
    const changed = await this.redis.leaderboardErase(
      keys.length,
      ...keys,
      userId,
      DEDUPE_TTL_MS,
      now.getTime(),
    );
    return changed.map((i) => ids[i - 1]!);
  }

  async markApplied(changes: readonly Pick<WorkoutChange, 'workoutId' | 'kind'>[]): Promise<void> {
    for (let i = 0; i < changes.length; i += 500) {
      const batch = this.redis.multi();
      for (const c of changes.slice(i, i + 500)) {
        batch.set(`${this.prefix}applied:${c.workoutId}:${c.kind}`, 'rebuild', 'PX', DEDUPE_TTL_MS);
      }
      await batch.exec();
    }
  }

  async userIds(now = new Date()): Promise<Set<string>> {
    const batch = this.redis.multi();
    for (const ref of liveBoards(now)) batch.zrange(this.boardKey(boardId(ref)), '0', '-1');
    const ids = new Set<string>();
    for (const [error, members] of (await batch.exec()) ?? []) {
      if (error) throw error;
      for (const userId of members as string[]) ids.add(userId);
    }
    return ids;
  }

  async top(ref: BoardRef, n: number): Promise<BoardTop> {
    const id = boardId(ref);
    const [range, updated] = (await this.redis
      .multi()
      .zrange(this.boardKey(id), '0', String(n - 1), 'WITHSCORES')
      .get(this.updatedKey(id))
      .exec()) as [[Error | null, string[]], [Error | null, string | null]];
    if (range[0]) throw range[0];
    if (updated[0]) throw updated[0];
    const entries: BoardTop['entries'] = [];
    for (let i = 0; i < range[1].length; i += 2) {
      const units = -Number(range[1][i + 1]);
      // Negative totals only exist while a deletion waits for its logging (out of order).
      if (units > 0) entries.push({ userId: range[1][i] as string, score: scoreOf(units) });
    }
    return { entries, updatedAt: updated[1] === null ? null : new Date(Number(updated[1])) };
  }

  async replace(ref: BoardRef, units: ReadonlyMap<string, number>, now = new Date()): Promise<void> {
    const id = boardId(ref);
    const expiry = expiresAt(ref);
    // Built aside, then renamed over the live board in one MULTI: readers see the
    // old board or the new one, never a half-written one.
    const tmp = `${this.prefix}tmp:${id}:${randomBytes(4).toString('hex')}`;
    const members = [...units].filter(([, u]) => u > 0);
    try {
      for (let i = 0; i < members.length; i += 1000) {
        const chunk = members.slice(i, i + 1000).flatMap(([user, u]) => [-u, user]);
        // The TTL guards against a rebuild that dies before the rename.
        await this.redis
          .multi()
          .zadd(tmp, ...(chunk as [number, string]))
          .pexpire(tmp, 3_600_000)
          .exec();
      }
      const tx = this.redis.multi();
      if (members.length > 0) tx.rename(tmp, this.boardKey(id));
      else tx.del(this.boardKey(id));
      if (expiry) {
        tx.pexpireat(this.boardKey(id), expiry.getTime());
        tx.set(this.updatedKey(id), now.getTime(), 'PXAT', expiry.getTime());
      } else {
        tx.persist(this.boardKey(id));
        tx.set(this.updatedKey(id), now.getTime());
      }
      const results = await tx.exec();
      for (const [error] of results ?? []) if (error) throw error;
    } finally {
      await this.redis.del(tmp);
    }
  }

  async expiry(ref: BoardRef): Promise<Date | null | undefined> {
    const at = Number(await this.redis.call('PEXPIRETIME', this.updatedKey(boardId(ref))));
    if (at === -2) return undefined;
    return at === -1 ? null : new Date(at);
  }

  ping(): Promise<boolean> {
    return pingRedis(this.redis);
  }

  close(): Promise<void> {
    return closeRedis(this.redis);
  }
}
