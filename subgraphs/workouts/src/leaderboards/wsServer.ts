import type { Server } from 'node:http';
import { ANONYMOUS, type TokenVerifier, type Viewer, viewerFromAuthorization } from '@fitness/auth';
import {
  contextFrom,
  createFormatError,
  ROUTER_SECRET_HEADER,
  routerSecretCheck,
  SpanKind,
  tracer,
  tracingEnabled,
} from '@fitness/server-kit';
import {
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  specifiedRules,
  validate,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';

export interface SubscriptionServerOptions<TContext> {
  server: Server;
  schema: GraphQLSchema;
  verify: TokenVerifier;
  /** ROUTER_SUBGRAPH_SECRET: a connection whose connectionParams lack it is closed with 4403. */
  routerSecret: string;
  /** NODE_ENV=production: no `__schema` or `__type`, as on HTTP. */
  production?: boolean;
  logger: Logger;
  context: (viewer: Viewer) => TContext;
  /** @default '/graphql' */
  path?: string;
  /** Largest incoming message: subscribe messages are small. @default 65_536 */
  maxPayloadBytes?: number;
  /** Interval of ws pings that find dead peers. @default 12_000 */
  keepAliveMs?: number;
}

export interface SubscriptionServer {
  clients(): number;
  /** Closes every socket (1001) and stops accepting upgrades. */
  close(): Promise<void>;
}

/**
 * graphql-transport-ws (graphql-ws) on the subgraph's HTTP server, beside POST
 * /graphql. Apollo Server's plugins do not run here, so the router secret, the
 * token, introspection and error masking are handled explicitly: connectionParams
 * must carry the router secret under ROUTER_SECRET_HEADER, a token in
 * connectionParams.authorization is verified like the HTTP header (a missing or
 * wrong secret and a bad token close the socket with 4403 Forbidden; no token is
 * anonymous: boards are public), and errors go through the same formatError as
 * HTTP responses.
 */
export function serveSubscriptions<TContext>(
  options: SubscriptionServerOptions<TContext>,
): SubscriptionServer {
  const { logger } = options;
  const formatError = createFormatError(logger);
  const fromRouter = routerSecretCheck(options.routerSecret);
  const rules = options.production ? [...specifiedRules, NoSchemaIntrospectionCustomRule] : specifiedRules;
  const mask = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => formatError(error.toJSON(), error));
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path ?? '/graphql',
    maxPayload: options.maxPayloadBytes ?? 65_536,
  });
  const disposable = useServer<Record<string, unknown>, { viewer: Viewer }>(
    {
      schema: options.schema,
      // Coded as Apollo codes them over HTTP, so formatError shows them instead of masking.
      validate: (schema, document) =>
        validate(schema, document, rules).map(
          (error) =>
            new GraphQLError(error.message, {
              ...(error.nodes ? { nodes: error.nodes } : {}),
              extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
            }),
        ),
      onConnect: async (ctx) => {
        if (!fromRouter(ctx.connectionParams?.[ROUTER_SECRET_HEADER])) {
          logger.warn('refused a subscription connection without the router secret');
          return false;
        }
        const authorization = ctx.connectionParams?.authorization;
        if (authorization !== undefined && typeof authorization !== 'string') return false;
        try {
          ctx.extra.viewer = await viewerFromAuthorization(authorization, options.verify);
          return true;
        } catch {
          // Returning false makes graphql-ws close with 4403 Forbidden. The token is never logged.
          logger.debug('refused a subscription connection with an invalid token');
          return false;
        }
      },
      // While tracing: the router's subscribe message carries its traceparent in `extensions`.
      onSubscribe: (_ctx, _id, payload) => {
        if (tracingEnabled()) traceSubscribe(payload.operationName, payload.extensions?.traceparent);
      },
      context: (ctx) => options.context(ctx.extra.viewer ?? ANONYMOUS) as Record<string, unknown>,
      onError: (_ctx, _id, _payload, errors) => mask(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: mask(result.errors) } : undefined,
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );
  return {
    clients: () => wss.clients.size,
    async close() {
      for (const socket of wss.clients) socket.close(1001, 'Server shutting down');
      await disposable.dispose();
    },
  };
}

/** A SERVER span for a subscribe message, continuing the router's subscribe span; ended at once. */
function traceSubscribe(operationName: string | null | undefined, traceparent: unknown): void {
  const span = tracer().startSpan(
    `subscription ${operationName ?? ''}`.trim(),
    { kind: SpanKind.SERVER, attributes: { 'graphql.operation.type': 'subscription' } },
    contextFrom(typeof traceparent === 'string' ? traceparent : undefined),
  );
  if (operationName) span.setAttribute('graphql.operation.name', operationName);
  span.end();
}
