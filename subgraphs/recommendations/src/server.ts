import { createSubgraphServer, type Logger } from '@fitness/server-kit';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';

export const schemaPath = new URL('../schema.graphql', import.meta.url);

/** The recommendations subgraph as runSubgraph and createRecommendationsServer build it. */
export const recommendationsSubgraph = { name: 'recommendations', schemaPath, resolvers };

/** The recommendations subgraph's GraphQL server, not started and not listening. */
export function createRecommendationsServer(logger: Logger, options: { production?: boolean } = {}) {
  return createSubgraphServer<Context>({ ...recommendationsSubgraph, logger, ...options });
}
