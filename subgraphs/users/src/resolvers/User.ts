import type { UserResolvers } from '../__generated__/resolvers-types.js';

export const User: UserResolvers = {
  __resolveReference: (ref, { dataSources }) => dataSources.users.getUser(ref.id),
  email: (user) => user.email,
};
