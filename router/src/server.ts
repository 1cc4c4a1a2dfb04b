import { randomUUID } from 'node:crypto';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { closeHttpServer, createFormatError, createHttpApp, type Logger, listen } from '@fitness/server-kit';
import { clientAddressOf } from './clientAddress.js';
import type { RouterConfig } from './config.js';
import type { RouterContext } from './context.js';
import { SubgraphDataSource } from './subgraphDataSource.js';
import { supergraphFromFile } from './supergraph.js';

export interface RunningRouter {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** The request id a client or load balancer sent, if it is sane; a new one otherwise. */
function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : randomUUID();
}

/** Builds the gateway, Apollo Server and HTTP server, and listens. */
export async function startRouter(config: RouterConfig, logger: Logger): Promise<RunningRouter> {
  let ready = false;
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile(config.supergraphPath, logger),
    buildService: ({ name, url }) => {
      const target = config.subgraphUrls[name.toLowerCase()] ?? url;
      if (!target)
        throw new Error(`Subgraph "${name}" has no routing URL; set SUBGRAPH_${name.toUpperCase()}_URL.`);
      return new SubgraphDataSource(target, config.subgraphTimeoutMs);
    },
    logger,
  });
  gateway.onSchemaLoadOrUpdate(() => {
    ready = true;
  });

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    introspection: !config.production,
    includeStacktraceInErrorResponses: false,
    // Our own signal handling drains HTTP first, then stops Apollo, then closes stores.
    stopOnTerminationSignals: false,
    formatError: createFormatError(logger),
    logger,
    plugins: [
      config.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
  await apollo.start();

  const verify = createTokenVerifier(config.tokens);
  const server = createHttpApp<RouterContext, RouterContext>({
    logger,
    apollo,
    maxBodyBytes: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    // The token is checked before planning: a bad one is a 401, not a partial result.
    authenticate: async (req) => {
      const viewer = await viewerFromHeaders(req.headers, verify);
      return {
        viewer,
        authorization: viewer.userId ? req.headers.authorization : undefined,
        requestId: requestIdOf(req.headers['x-request-id']),
        clientAddress: clientAddressOf(
          req.socket.remoteAddress,
          req.headers['x-forwarded-for'],
          config.trustedProxies,
        ),
      };
    },
    context: (auth) => auth,
    ready: async () => ready,
    routes: config.production
      ? {}
      : {
          'GET /': (_req, res) => {
            res.writeHead(302, { location: '/graphql' }).end();
          },
        },
  });
  const port = await listen(server, config.port, config.host);
  const url = `http://${config.host}:${port}/graphql`;
  logger.info({ url, port }, 'router listening');
  return {
    port,
    url,
    async stop() {
      await closeHttpServer(server);
      await apollo.stop();
    },
  };
}
