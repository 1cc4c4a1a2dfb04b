import { isSelf } from '@fitness/auth';
import { forbidden } from '@fitness/server-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';

export const User: UserResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  // Public: other users may see the premium badge.
  isPremium: (user, _, { dataSources }) => dataSources.payments.isPremium(user.id),
  membership: (user, _, { viewer, dataSources }) => {
    if (!isSelf(viewer, user.id)) throw forbidden();
    return dataSources.payments.currentMembership(user.id);
  },
  payments: (user, { first, after }, { viewer, dataSources }) => {
    if (!isSelf(viewer, user.id)) throw forbidden();
    return dataSources.payments.paymentsPage(user.id, first, after);
  },
};
