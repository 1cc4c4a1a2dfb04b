import type { UserResolvers } from '../__generated__/resolvers-types.js';

export const User: UserResolvers = {
  // Workouts stores no user rows: a reference is all this subgraph knows of a user,
  // so there is nothing to load (the fields below go through loaders).
  __resolveReference: (ref) => ({ id: ref.id }),
  workouts: (user, { first, after }, { dataSources }) =>
    dataSources.workouts.listWorkouts(user.id, first, after),
  recentTraining: (user, _, { dataSources }) => dataSources.workouts.recentTraining(user.id),
  stats: (user, { bucket, from, to }, { dataSources }) =>
    dataSources.workouts.stats(user.id, bucket, from, to),
};
