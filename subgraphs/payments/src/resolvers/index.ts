import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Plan } from './Plan.js';
import { Query } from './Query.js';
import { User } from './User.js';

export const resolvers: Resolvers = { Query, User, Plan };
