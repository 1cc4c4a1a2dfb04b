import { createSubgraphServer, type Logger } from '@fitness/server-kit';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';

export const schemaPath = new URL('../schema.graphql', import.meta.url);

/** The recommendations subgraph's GraphQL server, not started and not listening. */
export function createRecommendationsServer(logger: Logger, options: { production?: boolean } = {}) {
  return createSubgraphServer<Context>({ schemaPath, resolvers, logger, ...options });
}
