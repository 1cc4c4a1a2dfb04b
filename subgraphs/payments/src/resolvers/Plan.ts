import type { PlanResolvers } from '../__generated__/resolvers-types.js';

export const Plan: PlanResolvers = {
  __resolveReference: (ref, { dataSources }) => dataSources.payments.getPlan(ref.id),
};
