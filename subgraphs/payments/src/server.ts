import { createSubgraphServer, type Logger } from '@fitness/server-kit';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';

export const schemaPath = new URL('../schema.graphql', import.meta.url);

/** The payments subgraph as runSubgraph and createPaymentsServer build it. */
export const paymentsSubgraph = { name: 'payments', schemaPath, resolvers };

/** The payments subgraph's GraphQL server, not started and not listening. */
export function createPaymentsServer(logger: Logger, options: { production?: boolean } = {}) {
  return createSubgraphServer<Context>({ ...paymentsSubgraph, logger, ...options });
}
