import type { Server } from 'node:http';
import { ANONYMOUS, type TokenVerifier, type Viewer, viewerFromAuthorization } from '@fitness/auth';
import { createFormatError } from '@fitness/server-kit';
import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';

export interface SubscriptionServerOptions<TContext> {
  server: Server;
  schema: GraphQLSchema;
  verify: TokenVerifier;
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
 * /graphql. Apollo Server's plugins do not run here, so authentication and error
 * masking are applied explicitly: a token in connectionParams.authorization is
 * verified like the HTTP header (a bad one closes the socket with 4403 Forbidden,
 * none is anonymous: boards are public), and errors go through the same
 * formatError as HTTP responses.
 */
export function serveSubscriptions<TContext>(
  options: SubscriptionServerOptions<TContext>,
): SubscriptionServer {
  const { logger } = options;
  const formatError = createFormatError(logger);
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
      onConnect: async (ctx) => {
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
