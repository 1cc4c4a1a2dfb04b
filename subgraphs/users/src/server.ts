import { createSubgraphServer, type Logger } from '@fitness/server-kit';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';

export const schemaPath = new URL('../schema.graphql', import.meta.url);

/** The users subgraph as runSubgraph and createUsersServer build it. */
export const usersSubgraph = {
  name: 'users',
  schemaPath,
  resolvers,
  // signUp and signIn answer before the client holds a token, so a request that has
  // just proved the password owns the account it returns (its email included).
  isOwner: (id: string, context: unknown) => (context as Context).dataSources.users.signedInAs(id),
};

/** The users subgraph's GraphQL server, not started and not listening. */
export function createUsersServer(logger: Logger, options: { production?: boolean } = {}) {
  return createSubgraphServer<Context>({ ...usersSubgraph, logger, ...options });
}
