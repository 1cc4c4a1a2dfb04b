import type { Logger } from '@fitness/server-kit';
import type { RecommendationRecord } from '../datasources/models.js';
import type { RecommendationCache } from '../datasources/RecommendationCache.js';
import type { FeatureStore } from '../features/FeatureStore.js';
import { adviseFromFeatures } from './advice.js';

/** Where a user's event-fed advice is stored: one entry per user, replaced on every event. */
export const adviceKey = (userId: string) => `recs:v2:${userId}`;

export interface AdvisorOptions {
  features: FeatureStore;
  cache: RecommendationCache;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
}

/**
 * Event-fed advice: computed from the read model when a user's training changes
 * (the consumer calls {@link refresh}) and stored, so that reads are one cache
 * lookup. The stored entry keeps the cache's TTL: advice that speaks of time
 * ("last trained 6 days ago") and the model's drift are recomputed on the first
 * read after it, never waited for after an event.
 */
export class Advisor {
  private readonly now: () => Date;
  /** One computation at a time per user in this process, so an older one never lands last. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly options: AdvisorOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The user's stored advice, computed now when none is stored; null when the read
   * model knows nothing of the user (no bus from workouts, or no workout yet): the caller
   * then falls back to the training the router sent.
   */
  async current(userId: string): Promise<RecommendationRecord[] | null> {
    const stored = await this.options.cache.get(adviceKey(userId)).catch((err: unknown) => {
      this.options.logger.warn({ err, userId }, 'stored advice could not be read, computing it');
      return undefined;
    });
    if (stored) return stored;
    return this.refresh(userId);
  }

  /** Recomputes and stores the user's advice; null (and nothing stored) for an unknown user. */
  refresh(userId: string): Promise<RecommendationRecord[] | null> {
    const previous = this.running.get(userId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.compute(userId));
    this.running.set(userId, next);
    void next
      .finally(() => {
        if (this.running.get(userId) === next) this.running.delete(userId);
      })
      .catch(() => undefined);
    return next;
  }

  private async compute(userId: string): Promise<RecommendationRecord[] | null> {
    const { features: store, cache } = this.options;
    const [done, model] = await Promise.all([store.exercisesOf(userId), store.model()]);
    if (done.size === 0) return null;
    const now = this.now();
    const advice = adviseFromFeatures({ features: await store.features(userId, now), done, model, now });
    await cache.set(adviceKey(userId), advice);
    return advice;
  }
}
