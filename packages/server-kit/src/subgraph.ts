import { readFileSync } from 'node:fs';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { type DocumentNode, parse } from 'graphql';
import type { Logger } from 'pino';
import { createFormatError } from './formatError.js';

export interface SubgraphServerOptions<TContext extends BaseContext> {
  /** Path of the subgraph's schema.graphql (the one SDL compose and codegen read too). */
  schemaPath: string | URL;
  // biome-ignore lint/suspicious/noExplicitAny: codegen's resolver types are structurally narrower than the map
  resolvers: any;
  logger: Logger;
  /** Extra plugins, e.g. drain plugins added by the HTTP layer. */
  plugins?: ApolloServer<TContext>['internals']['plugins'];
}

export function loadSchemaDocument(path: string | URL): DocumentNode {
  return parse(readFileSync(path, 'utf8'));
}

/** A Federation 2 subgraph server: built, not started and not listening. */
export function createSubgraphServer<TContext extends BaseContext>(
  options: SubgraphServerOptions<TContext>,
): ApolloServer<TContext> {
  const schema = buildSubgraphSchema([
    {
      typeDefs: loadSchemaDocument(options.schemaPath),
      resolvers: options.resolvers as GraphQLResolverMap<unknown>,
    },
  ]);
  return new ApolloServer<TContext>({
    schema,
    // The router introspects nothing, but `_service` is how composition reads the SDL.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // Our own signal handling drains HTTP first, then stops Apollo, then closes stores.
    stopOnTerminationSignals: false,
    formatError: createFormatError(options.logger),
    plugins: [ApolloServerPluginLandingPageDisabled(), ...(options.plugins ?? [])],
    logger: options.logger,
  });
}
