import { usersDeletedEvent as deletedEvent, InProcessEventBus } from '@fitness/events';
import { waitFor } from '@fitness/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startRecommendationsErasure } from '../src/accounts/erasure.js';
import { MemoryRecommendationCache } from '../src/datasources/MemoryRecommendationCache.js';
import { daysAgo, featureEngines, logged, sets } from './featureHelpers.js';

describe.each(featureEngines())('recommendations erasure on $name', (engine) => {
  const features = engine.open();
  const cache = new MemoryRecommendationCache();
  const bus = new InProcessEventBus();
  afterAll(async () => {
    await bus.close();
    await features.close();
  });

  it('should drop the features and cached advice of a deleted account, and count a replay as a duplicate', async () => {
    const erasure = await startRecommendationsErasure({ bus, features, cache });
    const now = new Date();
    await features.apply(logged('gone', daysAgo(1, now), sets('deadlift', 140, 3)), now);
    await features.apply(logged('stay', daysAgo(1, now), sets('deadlift', 100, 5)), now);
    const advice = {
      id: 'a',
      kind: 'RECOVERY',
      title: 't',
      reason: 'r',
      score: 1,
      exercise: null,
      generatedAt: now,
    } as const;
    await cache.set(`recs:v1:gone:${'0'.repeat(32)}`, [advice]);
    await cache.set(`recs:v1:stay:${'0'.repeat(32)}`, [advice]);

    await bus.publish(deletedEvent('gone'));
    await waitFor(async () => (await erasure.metrics()).processed === 1, 'the erasure');
    expect(await features.exercisesOf('gone')).toEqual(new Set());
    expect((await features.model()).users.get('deadlift')).toBe(1);
    expect(await cache.get(`recs:v1:gone:${'0'.repeat(32)}`)).toBeUndefined();
    expect(await cache.get(`recs:v1:stay:${'0'.repeat(32)}`)).toHaveLength(1);

    await bus.publish(deletedEvent('gone'));
    await waitFor(async () => (await erasure.metrics()).duplicates === 1, 'the replay');
    expect((await features.model()).users.get('deadlift')).toBe(1);
    expect([...(await features.exercisesOf('stay'))]).toEqual(['deadlift']);
    await erasure.stop();
  });
});
