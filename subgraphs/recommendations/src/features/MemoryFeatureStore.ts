import type { MuscleGroup } from '../datasources/models.js';
import { DEDUPE_TTL_MS, type FeatureStore } from './FeatureStore.js';
import {
  type CooccurrenceModel,
  decodeSummary,
  deriveFeatures,
  encodeSummary,
  FEATURE_HORIZON_MS,
  pairKey,
  summarize,
  type TrainingChange,
  type UserFeatures,
} from './model.js';

/**
 * The in-process adapter (REDIS_URL unset): the same state as the Redis adapter's
 * script keeps, in maps, lost on restart. Summaries are kept encoded, as in Redis.
 */
export class MemoryFeatureStore implements FeatureStore {
  private readonly markers = new Map<string, { value: string; expiresAt: number }>();
  private readonly workouts = new Map<string, Map<string, string>>();
  private readonly incidence = new Map<string, Map<string, number>>();
  private readonly users = new Map<string, number>();
  private readonly pairs = new Map<string, number>();
  private readonly groups = new Map<string, MuscleGroup>();
  /** user id -> until when the erased user's events are ignored */
  private readonly erased = new Map<string, number>();

  private marker(key: string, now: number): string | undefined {
    const m = this.markers.get(key);
    if (!m) return undefined;
    if (m.expiresAt <= now) {
      this.markers.delete(key);
      return undefined;
    }
    return m.value;
  }

  async apply(change: TrainingChange, now = new Date()): Promise<'applied' | 'duplicate' | 'erased'> {
    const t = now.getTime();
    const own = `${change.workoutId}:${change.kind}`;
    if (this.marker(own, t) !== undefined) return 'duplicate';
    if ((this.erased.get(change.userId) ?? 0) > t) return 'erased';
    this.markers.set(own, { value: change.sets === null ? 'nosets' : 'sets', expiresAt: t + DEDUPE_TTL_MS });
    const exercises = [...new Map((change.sets ?? []).map((s) => [s.exerciseId, s.muscleGroup])).entries()];
    const inc = this.incidence.get(change.userId) ?? new Map<string, number>();
    this.incidence.set(change.userId, inc);
    if (change.kind === 'logged') {
      if (this.marker(`${change.workoutId}:deleted`, t) !== undefined || change.sets === null)
        return 'applied';
      const started = change.startedAt.getTime();
      const mine = this.workouts.get(change.userId) ?? new Map<string, string>();
      this.workouts.set(change.userId, mine);
      if (started >= t - FEATURE_HORIZON_MS) mine.set(change.workoutId, encodeSummary(summarize(change)));
      for (const [id, text] of mine) if (JSON.parse(text)[0] < t - FEATURE_HORIZON_MS) mine.delete(id);
      for (const [e, g] of exercises) {
        this.groups.set(e, g);
        const count = (inc.get(e) ?? 0) + 1;
        inc.set(e, count);
        if (count !== 1) continue;
        this.users.set(e, (this.users.get(e) ?? 0) + 1);
        for (const [f, n] of inc) if (f !== e && n > 0) this.bump(pairKey(e, f), 1);
      }
      return 'applied';
    }
    this.workouts.get(change.userId)?.delete(change.workoutId);
    if (this.marker(`${change.workoutId}:logged`, t) === 'nosets') return 'applied';
    for (const [e] of exercises) {
      const count = inc.get(e) ?? 0;
      if (count <= 0) continue;
      if (count > 1) {
        inc.set(e, count - 1);
        continue;
      }
      inc.delete(e);
      this.users.set(e, (this.users.get(e) ?? 0) - 1);
      if (this.users.get(e) === 0) this.users.delete(e);
      for (const [f, n] of inc) if (n > 0) this.bump(pairKey(e, f), -1);
    }
    return 'applied';
  }

  async eraseUser(userId: string): Promise<'applied' | 'duplicate'> {
    const t = Date.now();
    const already = (this.erased.get(userId) ?? 0) > t;
    this.erased.set(userId, t + DEDUPE_TTL_MS);
    const done = [...(this.incidence.get(userId) ?? [])].filter(([, n]) => n > 0).map(([e]) => e);
    done.forEach((e, i) => {
      this.users.set(e, (this.users.get(e) ?? 0) - 1);
      if (this.users.get(e) === 0) this.users.delete(e);
      for (const f of done.slice(i + 1)) this.bump(pairKey(e, f), -1);
    });
    this.incidence.delete(userId);
    this.workouts.delete(userId);
    return already ? 'duplicate' : 'applied';
  }

  private bump(key: string, by: number) {
    const n = (this.pairs.get(key) ?? 0) + by;
    if (n === 0) this.pairs.delete(key);
    else this.pairs.set(key, n);
  }

  async features(userId: string, now = new Date()): Promise<UserFeatures> {
    const mine = this.workouts.get(userId) ?? new Map<string, string>();
    return deriveFeatures(
      userId,
      [...mine].map(([id, text]) => decodeSummary(id, text)),
      now,
    );
  }

  async exercisesOf(userId: string): Promise<Set<string>> {
    return new Set([...(this.incidence.get(userId) ?? [])].filter(([, n]) => n > 0).map(([e]) => e));
  }

  async model(): Promise<CooccurrenceModel> {
    // Groups of exercises nobody does any more stay stored (catalogue knowledge) but
    // are not part of the model, so that a rebuild answers the same.
    const groups = new Map([...this.groups].filter(([e]) => this.users.has(e)));
    return { users: new Map(this.users), pairs: new Map(this.pairs), groups };
  }

  async userIds(): Promise<Set<string>> {
    const held = [...this.workouts, ...this.incidence].filter(([, entries]) => entries.size > 0);
    return new Set(held.map(([userId]) => userId));
  }

  async clear(): Promise<void> {
    for (const m of [this.markers, this.workouts, this.incidence, this.users, this.pairs, this.groups])
      m.clear();
    this.erased.clear();
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
