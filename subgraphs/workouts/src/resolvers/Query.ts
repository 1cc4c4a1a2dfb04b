import { requireUser } from '@fitness/auth';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { leaderboardQuery } from '../leaderboards/resolvers.js';
import { ownWorkout } from './Workout.js';

export const Query: QueryResolvers = {
  workout: async (_, { id }, { viewer, dataSources }) => {
    requireUser(viewer);
    return ownWorkout(viewer, await dataSources.workouts.getWorkout(id));
  },
  // Public: the catalogue is the same for everyone.
  exercises: (_, { muscleGroup }, { dataSources }) => dataSources.workouts.listExercises(muscleGroup),
  ...leaderboardQuery,
};
