import { requireUser } from '@fitness/auth';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';

export const Mutation: MutationResolvers = {
  signUp: (_, { input }, { dataSources }) => dataSources.users.signUp(input),
  signIn: (_, { input }, { dataSources }) => dataSources.users.signIn(input),
  updateProfile: (_, { input }, { viewer, dataSources }) =>
    dataSources.users.updateProfile(requireUser(viewer), input),
  follow: (_, { userId }, { viewer, dataSources }) => dataSources.users.follow(requireUser(viewer), userId),
  unfollow: (_, { userId }, { viewer, dataSources }) =>
    dataSources.users.unfollow(requireUser(viewer), userId),
  deleteAccount: (_, { password }, { viewer, dataSources }) =>
    dataSources.users.deleteAccount(requireUser(viewer), password),
  signOutEverywhere: (_, __, { viewer, dataSources }) =>
    dataSources.users.signOutEverywhere(requireUser(viewer)),
};
