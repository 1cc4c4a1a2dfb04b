import type { MuscleGroup, Sport, StatsBucketSize } from '../__generated__/resolvers-types.js';

export type { MuscleGroup, Sport, StatsBucketSize };

/** Every muscle group, in the schema's order: recent training lists all of them. */
export const MUSCLE_GROUPS: readonly MuscleGroup[] = [
  'CHEST',
  'BACK',
  'SHOULDERS',
  'ARMS',
  'CORE',
  'LEGS',
  'GLUTES',
  'FULL_BODY',
  'CARDIO',
];

/** A reference to a User entity owned by the users subgraph. */
export interface UserRef {
  id: string;
}

export interface ExerciseRecord {
  id: string;
  name: string;
  muscleGroup: MuscleGroup;
}

export interface WorkoutRecord {
  id: string;
  userId: string;
  sport: Sport;
  title: string | null;
  startedAt: Date;
  durationSec: number;
  distanceM: number | null;
  calories: number | null;
  /** Sum of reps x weightKg over the sets, computed on write. */
  volumeKg: number;
  createdAt: Date;
}

export interface WorkoutSetRecord {
  workoutId: string;
  position: number;
  exerciseId: string;
  reps: number | null;
  weightKg: number | null;
  durationSec: number | null;
  distanceM: number | null;
}

/** A validated workout as the client logged it, before it is stored. */
export interface NewWorkout {
  id: string;
  userId: string;
  /**
   * The owner's region from the token's `region` claim, stored on the row and sent
   * in the events; null (or absent) for a token without the claim.
   */
  region?: string | null;
  sport: Sport;
  title: string | null;
  startedAt: Date;
  durationSec: number;
  distanceM: number | null;
  calories: number | null;
  sets: NewWorkoutSet[];
}

export interface NewWorkoutSet {
  exerciseId: string;
  reps: number | null;
  weightKg: number | null;
  durationSec: number | null;
  distanceM: number | null;
}

export interface WorkoutPage {
  edges: { cursor: string; node: WorkoutRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface MuscleGroupTrainingRecord {
  muscleGroup: MuscleGroup;
  sets: number;
  volumeKg: number;
  lastTrainedAt: Date | null;
}

export interface RecentTrainingRecord {
  since: Date;
  workouts: number;
  /** One entry per muscle group, in {@link MUSCLE_GROUPS} order. */
  muscleGroups: MuscleGroupTrainingRecord[];
}

/**
 * One User.stats request: a user's totals per bucket over [start, end), both
 * bucket starts (see buckets.ts).
 */
export interface StatsKey {
  userId: string;
  bucket: StatsBucketSize;
  start: Date;
  end: Date;
}

/** Totals of the workouts that started in the bucket beginning at `start`. */
export interface StatsBucketRecord {
  start: Date;
  workouts: number;
  durationSec: number;
  volumeKg: number;
  distanceM: number;
  calories: number;
}
