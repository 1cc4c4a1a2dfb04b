import type { LeaderboardResolvers } from '../__generated__/resolvers-types.js';

// Every field is a property of the snapshot; entries resolve through LeaderboardEntry.
export const Leaderboard: LeaderboardResolvers = {};
