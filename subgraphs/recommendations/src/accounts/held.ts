import type { RecommendationCache } from '../datasources/RecommendationCache.js';
import type { FeatureStore } from '../features/FeatureStore.js';

/**
 * Every user id recommendations holds data for (`GET /accounts/held`, read by the
 * accounts audit of users): features, incidence and cached advice.
 */
export async function heldUserIds(features: FeatureStore, cache: RecommendationCache): Promise<Set<string>> {
  const [withFeatures, withAdvice] = await Promise.all([features.userIds(), cache.userIds()]);
  return new Set([...withFeatures, ...withAdvice]);
}
