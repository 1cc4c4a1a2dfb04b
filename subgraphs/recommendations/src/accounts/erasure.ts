import {
  accountErasureConsumer,
  type DedupeSlot,
  type EventBus,
  HandlerDedupe,
  type IdempotentConsumer,
} from '@fitness/events';
import type { RecommendationCache } from '../datasources/RecommendationCache.js';
import type { FeatureStore } from '../features/FeatureStore.js';

/** The durable consumer's name: one per deployment, shared by every recommendations replica. */
export const RECOMMENDATIONS_ERASURE_CONSUMER = 'recommendations-erasure';

/**
 * Drops what recommendations holds for a deleted account, from users.deleted: its
 * features and its part of the co-occurrence model (one script, with the marker
 * that makes its later workout events change nothing), then its cached advice. The
 * cache is cleared on every delivery, so a failure after the features is retried;
 * a replayed event finds nothing left.
 */
export function startRecommendationsErasure(options: {
  bus: EventBus;
  features: FeatureStore;
  cache: RecommendationCache;
}): Promise<IdempotentConsumer> {
  return accountErasureConsumer<DedupeSlot>({
    name: RECOMMENDATIONS_ERASURE_CONSUMER,
    bus: options.bus,
    store: new HandlerDedupe(),
    erase: async (userId, slot) => {
      const outcome = await options.features.eraseUser(userId);
      await options.cache.deleteUser(userId);
      slot.outcome = outcome === 'applied' ? 'processed' : 'duplicate';
    },
  });
}
