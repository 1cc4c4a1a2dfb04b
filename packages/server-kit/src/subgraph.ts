import { readFileSync } from 'node:fs';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import { type DocumentNode, defaultFieldResolver, type GraphQLSchema, isObjectType, parse } from 'graphql';
import type { Logger } from 'pino';
import { createFormatError } from './formatError.js';
import { tracingEnabled } from './requestScope.js';
import { enforceSelfOnly, type OwnerCheck } from './selfOnly.js';
import { inSpan, operationSpanPlugin } from './tracing.js';

export interface SubgraphServerOptions<TContext extends BaseContext> {
  /** Path of the subgraph's schema.graphql (the one SDL compose and codegen read too). */
  schemaPath: string | URL;
  // biome-ignore lint/suspicious/noExplicitAny: codegen's resolver types are structurally narrower than the map
  resolvers: any;
  logger: Logger;
  /**
   * NODE_ENV=production: `__schema` and `__type` are refused. Nothing needs them:
   * composition reads the schema files and the router a committed supergraph;
   * `_service { sdl }`, which federation tooling reads, stays.
   */
  production?: boolean;
  /** Extra plugins, e.g. drain plugins added by the HTTP layer. */
  plugins?: ApolloServer<TContext>['internals']['plugins'];
  /** Who else counts as the owner of a `@selfOnly` field than the token's user. */
  isOwner?: OwnerCheck;
}

/** The subgraph's executable schema, `@selfOnly` enforced: every transport serves this one. */
export function buildEnforcedSubgraphSchema(
  schemaPath: string | URL,
  // biome-ignore lint/suspicious/noExplicitAny: codegen's resolver types are structurally narrower than the map
  resolvers: any,
  isOwner?: OwnerCheck,
) {
  const schema = buildSubgraphSchema([
    { typeDefs: loadSchemaDocument(schemaPath), resolvers: resolvers as GraphQLResolverMap<unknown> },
  ]);
  const enforced = enforceSelfOnly(schema, isOwner);
  if (tracingEnabled()) traceRootFields(enforced);
  return enforced;
}

/**
 * A span around every query and mutation field (`_entities` included): the
 * resolvers that reach the stores, whose own spans then nest beneath. Installed only
 * while tracing is on; field resolvers below the root add no spans.
 */
function traceRootFields(schema: GraphQLSchema): void {
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root || !isObjectType(root)) continue;
    for (const field of Object.values(root.getFields())) {
      const resolve = field.resolve ?? defaultFieldResolver;
      const name = `${root.name}.${field.name}`;
      field.resolve = (source, args, contextValue, info) =>
        inSpan(
          name,
          { attributes: { 'graphql.field.path': `${info.path.key}`, 'graphql.field.name': field.name } },
          async () => resolve(source, args, contextValue, info),
        );
    }
  }
}

export function loadSchemaDocument(path: string | URL): DocumentNode {
  return parse(readFileSync(path, 'utf8'));
}

/** A Federation 2 subgraph server: built, not started and not listening. */
export function createSubgraphServer<TContext extends BaseContext>(
  options: SubgraphServerOptions<TContext>,
): ApolloServer<TContext> {
  const schema = buildEnforcedSubgraphSchema(options.schemaPath, options.resolvers, options.isOwner);
  return new ApolloServer<TContext>({
    schema,
    introspection: !options.production,
    includeStacktraceInErrorResponses: false,
    // Our own signal handling drains HTTP first, then stops Apollo, then closes stores.
    stopOnTerminationSignals: false,
    formatError: createFormatError(options.logger),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ...(tracingEnabled() ? [operationSpanPlugin()] : []),
      ...(options.plugins ?? []),
    ],
    logger: options.logger,
  });
}
