import type { QueryResolvers, SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import type { LeaderboardSnapshot } from './model.js';

/** The live boards of the context; every server wires them, so absence is a bug. */
export function liveBoards(context: Context) {
  const live = context.dataSources.leaderboards;
  if (!live) throw new Error('leaderboards are not wired into this context');
  return live;
}

/** Query.leaderboard. Public, like the catalogue: boards carry no personal data beyond user ids. */
export const leaderboardQuery: Pick<QueryResolvers, 'leaderboard'> = {
  leaderboard: (_, { board }, context) => liveBoards(context).snapshot(board),
};

/** Subscription.leaderboardUpdated. Public as well, so anonymous sockets may watch. */
export const leaderboardSubscription: Pick<SubscriptionResolvers, 'leaderboardUpdated'> = {
  leaderboardUpdated: {
    subscribe: (_, { board }, context) => liveBoards(context).watch(board),
    resolve: (snapshot: LeaderboardSnapshot) => snapshot,
  },
};
