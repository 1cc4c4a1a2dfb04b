import { buildEnforcedSubgraphSchema, createSubgraphServer, type Logger } from '@fitness/server-kit';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';

export const schemaPath = new URL('../schema.graphql', import.meta.url);

/** The workouts subgraph as runSubgraph and createWorkoutsServer build it. */
export const workoutsSubgraph = { name: 'workouts', schemaPath, resolvers };

/** The workouts subgraph's GraphQL server, not started and not listening. */
export function createWorkoutsServer(logger: Logger, options: { production?: boolean } = {}) {
  return createSubgraphServer<Context>({ ...workoutsSubgraph, logger, ...options });
}

/**
 * The same executable schema for the WebSocket path (subscriptions), which runs
 * graphql-js directly rather than through Apollo Server.
 */
export function buildWorkoutsSchema() {
  return buildEnforcedSubgraphSchema(schemaPath, resolvers);
}
