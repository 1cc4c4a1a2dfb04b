import type { MembershipResolvers } from '../__generated__/resolvers-types.js';

export const Membership: MembershipResolvers = {
  // Plans are never deleted, only taken off sale, so a membership's plan always exists.
  plan: async (membership, _, { dataSources }) => {
    const plan = await dataSources.payments.getPlan(membership.planId);
    if (!plan) throw new Error(`membership ${membership.id} names unknown plan ${membership.planId}`);
    return plan;
  },
};
