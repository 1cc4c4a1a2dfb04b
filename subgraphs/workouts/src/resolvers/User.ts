import { isSelf } from '@fitness/auth';
import { forbidden } from '@fitness/server-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';

export const User: UserResolvers = {
  // Workouts stores no user rows: a reference is all this subgraph knows of a user,
  // so there is nothing to load (the fields below go through loaders).
  __resolveReference: (ref) => ({ id: ref.id }),
  workouts: (user, { first, after }, { viewer, dataSources }) => {
    if (!isSelf(viewer, user.id)) throw forbidden();
    return dataSources.workouts.listWorkouts(user.id, first, after);
  },
  recentTraining: (user, _, { viewer, dataSources }) => {
    if (!isSelf(viewer, user.id)) throw forbidden();
    return dataSources.workouts.recentTraining(user.id);
  },
  stats: (user, { bucket, from, to }, { viewer, dataSources }) => {
    if (!isSelf(viewer, user.id)) throw forbidden();
    return dataSources.workouts.stats(user.id, bucket, from, to);
  },
};
