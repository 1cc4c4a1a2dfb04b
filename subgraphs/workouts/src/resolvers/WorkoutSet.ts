import type { WorkoutSetResolvers } from '../__generated__/resolvers-types.js';

export const WorkoutSet: WorkoutSetResolvers = {
  exercise: async (set, _, { dataSources }) => {
    const exercise = await dataSources.workouts.getExercise(set.exerciseId);
    // A foreign key guarantees the exercise; missing means the catalogue is broken.
    if (!exercise)
      throw new Error(`Set of workout ${set.workoutId} names missing exercise ${set.exerciseId}`);
    return exercise;
  },
};
