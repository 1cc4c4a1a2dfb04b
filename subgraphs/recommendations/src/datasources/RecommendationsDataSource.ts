import type { Logger } from '@fitness/server-kit';
import type { Advisor } from '../engine/advisor.js';
import { recommend, type TrainingSnapshot, toSnapshot } from '../engine/rules.js';
import type { RecentTrainingInput, RecommendationRecord } from './models.js';
import { cacheKey, type RecommendationCache } from './RecommendationCache.js';

export interface RecommendationsDataSourceOptions {
  /** The clock the engine reads. @default () => new Date() */
  now?: () => Date;
  /** The engine; injectable so tests can count computations. @default recommend */
  engine?: (training: TrainingSnapshot, now: Date) => RecommendationRecord[];
  /** Event-fed advice; without it (or when it knows nothing of the user) the rules read `recentTraining`. */
  advisor?: Advisor;
}

/**
 * Per-request access to recommendations: compute through the cache, never failing
 * because of it. Its memo is per request, never shared between users.
 */
export class RecommendationsDataSource {
  private readonly now: () => Date;
  private readonly engine: (training: TrainingSnapshot, now: Date) => RecommendationRecord[];
  private readonly advisor: Advisor | undefined;
  /** One computation per key per request, even if an operation asks twice. */
  private readonly byKey = new Map<string, Promise<RecommendationRecord[] | null>>();

  constructor(
    private readonly cache: RecommendationCache,
    private readonly logger: Logger,
    options: RecommendationsDataSourceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.engine = options.engine ?? recommend;
    this.advisor = options.advisor;
  }

  /**
   * The user's advice, best first, at most `first` items: the event-fed advice when
   * the read model knows the user, else the rules on the training the router sent
   * (null when it sent none).
   */
  async forUser(
    userId: string,
    training: RecentTrainingInput | null,
    first: number,
  ): Promise<RecommendationRecord[] | null> {
    const fed = await this.fromEvents(userId);
    if (fed) return fed.slice(0, first);
    if (!training) return null;
    const snapshot = toSnapshot(training);
    const key = cacheKey(userId, snapshot);
    let all = this.byKey.get(key);
    if (!all) {
      all = this.load(key, snapshot);
      this.byKey.set(key, all);
    }
    return (await all)?.slice(0, first) ?? null;
  }

  private fromEvents(userId: string): Promise<RecommendationRecord[] | null> {
    if (!this.advisor) return Promise.resolve(null);
    const key = `events:${userId}`;
    let fed = this.byKey.get(key);
    if (!fed) {
      // A read model that cannot be read leaves the rules on `recentTraining` to answer.
      fed = this.advisor.current(userId).catch((err: unknown) => {
        this.logger.warn({ err, userId }, 'event-fed advice unavailable, using recent training');
        return null;
      });
      this.byKey.set(key, fed);
    }
    return fed;
  }

  private async load(key: string, snapshot: TrainingSnapshot): Promise<RecommendationRecord[]> {
    // The cache is an optimisation: an outage or a corrupt entry is logged and the
    // advice computed anyway, because the engine needs nothing but the input.
    try {
      const cached = await this.cache.get(key);
      if (cached) return cached;
    } catch (err) {
      this.logger.warn({ err, key }, 'recommendation cache read failed, computing without cache');
    }
    const computed = this.engine(snapshot, this.now());
    try {
      await this.cache.set(key, computed);
    } catch (err) {
      this.logger.warn({ err, key }, 'recommendation cache write failed');
    }
    return computed;
  }
}
