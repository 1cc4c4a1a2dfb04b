import type { QueryResolvers } from '../__generated__/resolvers-types.js';

export const Query: QueryResolvers = {
  me: (_, __, { viewer, dataSources }) => (viewer.userId ? dataSources.users.getUser(viewer.userId) : null),
  user: (_, { id }, { dataSources }) => dataSources.users.getUser(id),
  userByHandle: (_, { handle }, { dataSources }) => dataSources.users.getUserByHandle(handle),
};
