import { requireUser } from '@fitness/auth';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';

export const Mutation: MutationResolvers = {
  logWorkout: (_, { input }, { viewer, dataSources }) =>
    dataSources.workouts.logWorkout(requireUser(viewer), input, viewer.region),
  deleteWorkout: (_, { id }, { viewer, dataSources }) =>
    dataSources.workouts.deleteWorkout(requireUser(viewer), id),
};
