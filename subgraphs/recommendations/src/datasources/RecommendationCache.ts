import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { TrainingSnapshot } from '../engine/rules.js';
import type { RecommendationKind, RecommendationRecord } from './models.js';

/**
 * The recommendation cache port: computed advice per user and input, with a TTL.
 * Two adapters pass one contract suite: Redis (shared by every replica) and an
 * in-process map (single-instance mode, when REDIS_URL is unset).
 */
export interface RecommendationCache {
  /** The cached advice, or undefined when absent or expired. */
  get(key: string): Promise<RecommendationRecord[] | undefined>;
  /**
   * Stores advice under `key`, replacing any value there.
   * @param ttlSeconds lifetime (fractions allowed); @default the adapter's TTL, 900 s unless configured
   */
  set(key: string, value: readonly RecommendationRecord[], ttlSeconds?: number): Promise<void>;
  /** Removes every entry of the user (any training, any key version): an account's erasure. */
  deleteUser(userId: string): Promise<void>;
  /** Every user with an entry (the accounts audit). */
  userIds(): Promise<Set<string>>;
  /** True when the backing store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** @default 900 (15 minutes) */
export const DEFAULT_CACHE_TTL_SECONDS = 900;

/**
 * Bumped when the stored shape or the engine's rules change, so that replicas on
 * a new version never read advice written by an old one.
 */
const KEY_VERSION = 'v1';

/**
 * `recs:v1:<userId>:<digest>`: the digest covers the training the advice was
 * computed from, so new training is a new key and old advice simply expires.
 *
 * `since` enters by its UTC day only: workouts derives it from the request time,
 * and hashing it to the millisecond would make every request a miss. Within one
 * day the window length, the only thing the engine reads from it, is the same.
 *
 * The clock is not in the key: advice ages ("Last trained 9 days ago") for at most
 * the TTL before it is recomputed, and `generatedAt` says when it was computed.
 */
/** Calls `each` with every batch of keys a Redis SCAN over `pattern` finds. */
export async function scanKeys(
  redis: Pick<Redis, 'scan'>,
  pattern: string,
  each: (keys: string[]) => Promise<void>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await each(keys);
  } while (cursor !== '0');
}

/** The user id of a cache key (`recs:<version>:<userId>:<digest>`), if it is one. */
export function userOfKey(key: string): string | undefined {
  const parts = key.split(':');
  return parts.length === 4 && parts[0] === 'recs' ? parts[2] : undefined;
}

/** Text matched literally inside a Redis MATCH pattern. */
export const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** The start every key of the user's entries has, whatever its version (see cacheKey). */
export const userKeyPattern = (userId: string) => ({
  /** `recs:` then the version then `:<userId>:` */
  matches: (key: string) => userOfKey(key) === userId,
  /** The same as a Redis MATCH pattern, glob characters of the id escaped. */
  glob: `recs:*:${escapeGlob(userId)}:*`,
});

export function cacheKey(userId: string, training: TrainingSnapshot): string {
  const canonical = JSON.stringify([
    training.since.toISOString().slice(0, 10),
    training.groups.map((g) => [g.muscleGroup, g.sets, g.lastTrainedAt?.toISOString() ?? null]),
  ]);
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 32);
  return `recs:${KEY_VERSION}:${userId}:${digest}`;
}

/** JSON with dates as ISO strings (Date#toJSON). */
export function encodeRecommendations(value: readonly RecommendationRecord[]): string {
  return JSON.stringify(value);
}

const KINDS = new Set<RecommendationKind>([
  'TRAIN_MUSCLE_GROUP',
  'PROGRESSIVE_OVERLOAD',
  'RECOVERY',
  'TRY_EXERCISE',
]);

/**
 * Parses a cached value back into records. Throws on anything that is not what
 * {@link encodeRecommendations} wrote, so that a corrupt entry is reported and
 * recomputed instead of being served.
 */
export function decodeRecommendations(text: string): RecommendationRecord[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new Error('cached recommendations are not an array');
  return parsed.map((item: unknown) => {
    const r = item as Record<string, unknown> | null;
    const exercise = r?.exercise as { id?: unknown } | null | undefined;
    const generatedAt = new Date(typeof r?.generatedAt === 'string' ? r.generatedAt : Number.NaN);
    if (
      !r ||
      typeof r.id !== 'string' ||
      !KINDS.has(r.kind as RecommendationKind) ||
      typeof r.title !== 'string' ||
      typeof r.reason !== 'string' ||
      typeof r.score !== 'number' ||
      !(exercise === null || typeof exercise?.id === 'string') ||
      Number.isNaN(generatedAt.getTime())
    ) {
      throw new Error('cached recommendation has an unexpected shape');
    }
    return {
      id: r.id,
      kind: r.kind as RecommendationKind,
      title: r.title,
      reason: r.reason,
      score: r.score,
      exercise: exercise === null ? null : { id: exercise.id as string },
      generatedAt,
    };
  });
}
