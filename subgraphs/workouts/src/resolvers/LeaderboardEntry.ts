import type { LeaderboardEntryResolvers } from '../__generated__/resolvers-types.js';

export const LeaderboardEntry: LeaderboardEntryResolvers = {
  // A reference: the users subgraph resolves the rest of the user.
  user: (entry) => ({ id: entry.userId }),
};
