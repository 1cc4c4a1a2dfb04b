import type { MuscleGroup, RecommendationKind } from '../__generated__/resolvers-types.js';

export type { MuscleGroup, RecommendationKind };

/**
 * A DateTime as it arrives in an entity representation: JSON, so normally an
 * ISO-8601 string; codegen types the scalar as `Date | string`.
 */
export type DateTimeValue = Date | string;

/** One muscle group's training in the window, as the workouts subgraph reports it. */
export interface MuscleGroupTrainingInput {
  muscleGroup: MuscleGroup;
  /** Sets logged for this group in the window. */
  sets: number;
  /** Null when the group was not trained in the window. */
  lastTrainedAt: DateTimeValue | null;
}

/** `User.recentTraining` from workouts, passed to us through `@requires`. */
export interface RecentTrainingInput {
  since: DateTimeValue;
  muscleGroups: readonly MuscleGroupTrainingInput[];
}

/**
 * A User entity as this subgraph sees it: its key and the training the router
 * fetched for it. `recentTraining` is null when workouts refused or failed to
 * provide it (it is self only there too), and absent when a caller sent a bare
 * `{ __typename, id }` representation.
 */
export interface UserWithTraining {
  id: string;
  recentTraining?: RecentTrainingInput | null;
}

/** A reference to an Exercise entity owned by the workouts subgraph. */
export interface ExerciseRef {
  id: string;
}

/** One piece of advice, as computed by the engine and stored in the cache. */
export interface RecommendationRecord {
  /** Stable across computations for the same advice: `${kind}:${subject}`. */
  id: string;
  kind: RecommendationKind;
  title: string;
  reason: string;
  /** 0..1, higher is more relevant. */
  score: number;
  exercise: ExerciseRef | null;
  generatedAt: Date;
}
