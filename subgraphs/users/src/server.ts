import { createSubgraphServer, type Logger } from '@fitness/server-kit';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';

export const schemaPath = new URL('../schema.graphql', import.meta.url);

/** The users subgraph's GraphQL server, not started and not listening. */
export function createUsersServer(logger: Logger, options: { production?: boolean } = {}) {
  return createSubgraphServer<Context>({
    schemaPath,
    resolvers,
    logger,
    ...options,
    // signUp and signIn answer before the client holds a token, so a request that has
    // just proved the password owns the account it returns (its email included).
    isOwner: (id, context) => (context as Context).dataSources.users.signedInAs(id),
  });
}
