import type { UserResolvers } from '../__generated__/resolvers-types.js';

export const User: UserResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  // Public: other users may see the premium badge.
  isPremium: (user, _, { dataSources }) => dataSources.payments.isPremium(user.id),
  membership: (user, _, { dataSources }) => dataSources.payments.currentMembership(user.id),
  payments: (user, { first, after }, { dataSources }) =>
    dataSources.payments.paymentsPage(user.id, first, after),
};
