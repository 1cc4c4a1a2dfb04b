import { isSelf, type Viewer } from '@fitness/auth';
import { forbidden } from '@fitness/server-kit';
import type { WorkoutResolvers } from '../__generated__/resolvers-types.js';
import type { WorkoutRecord } from '../datasources/models.js';

/** Owner only: null when it does not exist, FORBIDDEN when it is someone else's. */
export function ownWorkout(viewer: Viewer, workout: WorkoutRecord | null): WorkoutRecord | null {
  if (workout && !isSelf(viewer, workout.userId)) throw forbidden();
  return workout;
}

export const Workout: WorkoutResolvers = {
  __resolveReference: async (ref, { viewer, dataSources }) =>
    ownWorkout(viewer, await dataSources.workouts.getWorkout(ref.id)),
  user: (workout) => ({ id: workout.userId }),
  sets: (workout, _, { dataSources }) => dataSources.workouts.setsOf(workout.id),
};
