import type { Logger } from '@fitness/server-kit';
import { recommend, type TrainingSnapshot, toSnapshot } from '../engine/rules.js';
import type { RecentTrainingInput, RecommendationRecord } from './models.js';
import { cacheKey, type RecommendationCache } from './RecommendationCache.js';

export interface RecommendationsDataSourceOptions {
  /** The clock the engine reads. @default () => new Date() */
  now?: () => Date;
  /** The engine; injectable so tests can count computations. @default recommend */
  engine?: (training: TrainingSnapshot, now: Date) => RecommendationRecord[];
}

/**
 * Per-request access to recommendations: compute through the cache, never failing
 * because of it. Its memo is per request, never shared between users.
 */
export class RecommendationsDataSource {
  private readonly now: () => Date;
  private readonly engine: (training: TrainingSnapshot, now: Date) => RecommendationRecord[];
  /** One computation per key per request, even if an operation asks twice. */
  private readonly byKey = new Map<string, Promise<RecommendationRecord[]>>();

  constructor(
    private readonly cache: RecommendationCache,
    private readonly logger: Logger,
    options: RecommendationsDataSourceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.engine = options.engine ?? recommend;
  }

  /** The user's advice for this training, best first, at most `first` items. */
  async forUser(
    userId: string,
    training: RecentTrainingInput,
    first: number,
  ): Promise<RecommendationRecord[]> {
    const snapshot = toSnapshot(training);
    const key = cacheKey(userId, snapshot);
    let all = this.byKey.get(key);
    if (!all) {
      all = this.load(key, snapshot);
      this.byKey.set(key, all);
    }
    return (await all).slice(0, first);
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
