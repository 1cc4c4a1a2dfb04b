import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import type { LeaderboardSnapshot } from '../leaderboards/model.js';

/** The live boards of the context; every server wires them, so absence is a bug. */
export function liveBoards(context: Context) {
  const live = context.dataSources.leaderboards;
  if (!live) throw new Error('leaderboards are not wired into this context');
  return live;
}

export const Subscription: SubscriptionResolvers = {
  // Public: boards carry no personal data beyond user ids, so anonymous sockets may watch.
  leaderboardUpdated: {
    subscribe: (_, { board }, context) => liveBoards(context).watch(board),
    resolve: (snapshot: LeaderboardSnapshot) => snapshot,
  },
};
