import { isSelf } from '@fitness/auth';
import { forbidden } from '@fitness/server-kit';
import type { UserResolvers } from '../__generated__/resolvers-types.js';

export const User: UserResolvers = {
  __resolveReference: (ref, { dataSources }) => dataSources.users.getUser(ref.id),
  // Self only. signUp/signIn run before the client holds a token, so a request
  // that has just proved the password also counts as the owner.
  email: (user, _, { viewer, dataSources }) => {
    if (isSelf(viewer, user.id) || dataSources.users.signedInAs(user.id)) return user.email;
    throw forbidden('Only the account owner may read its email.');
  },
};
