import { requireUser } from '@fitness/auth';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';

export const Mutation: MutationResolvers = {
  startMembership: (_, { input }, { viewer, dataSources }) =>
    dataSources.payments.startMembership(requireUser(viewer), input),
  cancelMembership: (_, __, { viewer, dataSources }) =>
    dataSources.payments.cancelMembership(requireUser(viewer)),
};
