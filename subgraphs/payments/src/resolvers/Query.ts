import type { QueryResolvers } from '../__generated__/resolvers-types.js';

export const Query: QueryResolvers = {
  plans: (_, __, { dataSources }) => dataSources.payments.listPlans(),
};
