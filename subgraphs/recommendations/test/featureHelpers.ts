import { randomUUID } from 'node:crypto';
import { realService, uniquePrefix } from '@fitness/testing';
import { Redis } from 'ioredis';
import type { MuscleGroup } from '../src/datasources/models.js';
import type { FeatureStore } from '../src/features/FeatureStore.js';
import { MemoryFeatureStore } from '../src/features/MemoryFeatureStore.js';
import type { TrainingChange } from '../src/features/model.js';
import { RedisFeatureStore } from '../src/features/RedisFeatureStore.js';

export const redisUrl = realService('redis', 'recommendations features');

export interface FeatureEngine {
  name: 'in-process' | 'redis';
  /** A fresh, empty store (Redis: under a key prefix of its own, removed on close). */
  open(): FeatureStore;
}

/** The adapters every contract suite runs over: in-process always, Redis when configured. */
export function featureEngines(): FeatureEngine[] {
  const list: FeatureEngine[] = [{ name: 'in-process', open: () => new MemoryFeatureStore() }];
  if (redisUrl) {
    list.push({
      name: 'redis',
      open() {
        const prefix = uniquePrefix('recs-features');
        const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
        const store = new RedisFeatureStore(redis, { keyPrefix: prefix });
        const close = store.close.bind(store);
        store.close = async () => {
          await store.clear();
          await close();
        };
        return store;
      },
    });
  }
  return list;
}

const GROUP: Record<string, MuscleGroup> = {
  'barbell-bench-press': 'CHEST',
  'incline-dumbbell-press': 'CHEST',
  'push-up': 'CHEST',
  'barbell-back-squat': 'LEGS',
  'leg-press': 'LEGS',
  deadlift: 'FULL_BODY',
  'pull-up': 'BACK',
  'barbell-row': 'BACK',
  'overhead-press': 'SHOULDERS',
  'lateral-raise': 'SHOULDERS',
  'barbell-curl': 'ARMS',
  plank: 'CORE',
  'outdoor-run': 'CARDIO',
};

export const groupOf = (exerciseId: string): MuscleGroup => GROUP[exerciseId] ?? 'FULL_BODY';

/** Sets of one exercise: `reps` per set at `weightKg`. */
export const sets = (exerciseId: string, weightKg: number | null, ...reps: number[]) =>
  reps.map((r) => ({
    exerciseId,
    muscleGroup: groupOf(exerciseId),
    reps: r,
    weightKg,
    durationSec: null,
    distanceM: null,
  }));

export function logged(
  userId: string,
  startedAt: Date,
  workoutSets: TrainingChange['sets'],
  workoutId = randomUUID(),
): TrainingChange {
  return { kind: 'logged', eventId: randomUUID(), workoutId, userId, startedAt, sets: workoutSets };
}

export const deletedOf = (c: TrainingChange): TrainingChange => ({
  ...c,
  kind: 'deleted',
  eventId: randomUUID(),
});

export const daysAgo = (days: number, now = new Date()) => new Date(now.getTime() - days * 86_400_000);
