import { DateTimeScalar as DateTime } from '@fitness/server-kit';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { leaderboardSubscription } from '../leaderboards/resolvers.js';
import { Exercise } from './Exercise.js';
import { Leaderboard } from './Leaderboard.js';
import { LeaderboardEntry } from './LeaderboardEntry.js';
import { Mutation } from './Mutation.js';
import { Query } from './Query.js';
import { User } from './User.js';
import { Workout } from './Workout.js';
import { WorkoutSet } from './WorkoutSet.js';

export const resolvers: Resolvers = {
  DateTime,
  Query,
  Mutation,
  Subscription: leaderboardSubscription,
  User,
  Workout,
  WorkoutSet,
  Exercise,
  Leaderboard,
  LeaderboardEntry,
};
