import DataLoader from 'dataloader';
import type { LogWorkoutInput } from '../__generated__/resolvers-types.js';
import { bucketStarts } from '../buckets.js';
import { pageSize, parseStatsRange, parseWorkoutId, validateLogWorkout } from '../validation.js';
import type {
  ExerciseRecord,
  MuscleGroup,
  RecentTrainingRecord,
  StatsBucketRecord,
  StatsBucketSize,
  StatsKey,
  WorkoutPage,
  WorkoutRecord,
  WorkoutSetRecord,
} from './models.js';
import type { WorkoutsStore } from './WorkoutsStore.js';

/** How far back User.recentTraining looks. */
export const RECENT_TRAINING_DAYS = 28;

/**
 * Per-request access to workouts data; its loaders are never shared between
 * requests (nor, therefore, between users). Inputs are validated here, before
 * anything reaches the store.
 */
export class WorkoutsDataSource {
  private readonly workoutById: DataLoader<string, WorkoutRecord | null>;
  private readonly setsByWorkoutId: DataLoader<string, WorkoutSetRecord[]>;
  private readonly exerciseById: DataLoader<string, ExerciseRecord | null>;
  private readonly recentTrainingByUserId: DataLoader<string, RecentTrainingRecord>;
  private readonly statsByKey: DataLoader<StatsKey, StatsBucketRecord[], string>;
  /** One window per request, so every user in a response is measured alike. */
  private readonly recentSince: Date;

  constructor(
    private readonly store: WorkoutsStore,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.workoutById = new DataLoader((ids) => store.workoutsByIds(ids));
    this.setsByWorkoutId = new DataLoader((ids) => store.setsByWorkoutIds(ids));
    this.exerciseById = new DataLoader((ids) => store.exercisesByIds(ids));
    this.recentSince = new Date(now().getTime() - RECENT_TRAINING_DAYS * 24 * 60 * 60 * 1000);
    this.recentTrainingByUserId = new DataLoader((userIds) =>
      store.recentTraining(userIds, this.recentSince),
    );
    this.statsByKey = new DataLoader(
      async (keys) => {
        const found = await store.stats(keys);
        return keys.map((key, i) => withEmptyBuckets(key, found[i]!));
      },
      // Ranges are already widened to whole buckets, so equal requests share a key.
      {
        cacheKeyFn: (k) =>
          `${k.userId}\u0000${k.bucket}\u0000${k.start.toISOString()}\u0000${k.end.toISOString()}`,
      },
    );
  }

  getWorkout(id: string): Promise<WorkoutRecord | null> {
    return this.workoutById.load(id);
  }

  setsOf(workoutId: string): Promise<WorkoutSetRecord[]> {
    return this.setsByWorkoutId.load(workoutId);
  }

  getExercise(id: string): Promise<ExerciseRecord | null> {
    return this.exerciseById.load(id);
  }

  listExercises(muscleGroup?: MuscleGroup | null): Promise<ExerciseRecord[]> {
    return this.store.listExercises(muscleGroup);
  }

  listWorkouts(
    userId: string,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<WorkoutPage> {
    return this.store.listWorkouts(userId, pageSize(first), after ?? null);
  }

  recentTraining(userId: string): Promise<RecentTrainingRecord> {
    return this.recentTrainingByUserId.load(userId);
  }

  /** Totals per bucket over whole buckets covering [from, to); BAD_USER_INPUT on a bad range. */
  stats(userId: string, bucket: StatsBucketSize, from: string, to: string): Promise<StatsBucketRecord[]> {
    const { start, end } = parseStatsRange(bucket, from, to);
    return this.statsByKey.load({ userId, bucket, start, end });
  }

  /** `region` is the viewer's token claim; it is not part of the content a retry is compared with. */
  async logWorkout(
    userId: string,
    input: LogWorkoutInput,
    region: string | null = null,
  ): Promise<WorkoutRecord> {
    const { workout } = await this.store.logWorkout({
      ...validateLogWorkout(input, userId, this.now()),
      region,
    });
    this.workoutById.prime(workout.id, workout);
    // Totals read earlier in this request no longer hold.
    this.statsByKey.clearAll();
    return workout;
  }

  async deleteWorkout(userId: string, id: string): Promise<boolean> {
    const workoutId = parseWorkoutId(id);
    const deleted = await this.store.deleteWorkout(workoutId, userId);
    this.workoutById.clear(workoutId).clear(id);
    this.statsByKey.clearAll();
    return deleted;
  }
}

/** Every bucket of the key's range, oldest first; those without workouts as zeros. */
function withEmptyBuckets(key: StatsKey, found: readonly StatsBucketRecord[]): StatsBucketRecord[] {
  const byStart = new Map(found.map((b) => [b.start.getTime(), b]));
  return bucketStarts(key.start, key.end, key.bucket).map(
    (start) =>
      byStart.get(start.getTime()) ?? {
        start,
        workouts: 0,
        durationSec: 0,
        volumeKg: 0,
        distanceM: 0,
        calories: 0,
      },
  );
}
