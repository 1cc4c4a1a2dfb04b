import { badUserInput } from '@fitness/server-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';

/** Bounds of `first`: the engine never produces more than a handful anyway. */
const MAX_FIRST = 20;

export const User: UserResolvers = {
  // Nothing to load: the event-fed read model is keyed by id, and the router sends
  // recentTraining (from workouts, by @requires) in the representation for the
  // fallback. A bare `{ __typename, id }` means "no training known" there.
  __resolveReference: (ref) => ({
    id: ref.id,
    recentTraining: 'recentTraining' in ref ? (ref.recentTraining ?? null) : null,
  }),
  recommendations: (user, { first }, { dataSources }) => {
    // An explicit `first: null` overrides the SDL default, hence the null check too.
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
      throw badUserInput(`first must be between 1 and ${MAX_FIRST}.`, { argument: 'first' });
    }
    // Event-fed advice first; else the training workouts sent, and null when it sent none.
    return dataSources.recommendations.forUser(user.id, user.recentTraining ?? null, first);
  },
};
