import type { ExerciseResolvers } from '../__generated__/resolvers-types.js';

export const Exercise: ExerciseResolvers = {
  __resolveReference: (ref, { dataSources }) => dataSources.workouts.getExercise(ref.id),
};
