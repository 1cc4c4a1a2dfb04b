import type { IncomingMessage, Server } from 'node:http';
import type { ApolloServer, BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Check, createServiceMetrics } from './health.js';
import { closeHttpServer, createHttpApp, listen, type RouteHandler } from './http.js';
import { assertFromRouter, routerSecretCheck } from './trustedHop.js';

export interface ServeOptions<TContext extends BaseContext, TAuth> {
  logger: Logger;
  apollo: ApolloServer<TContext>;
  /**
   * ROUTER_SUBGRAPH_SECRET: GraphQL requests without it are refused (401, or 403 for
   * a wrong one) before `authenticate` and `context` see them; /health, /ready,
   * /metrics and `routes` stay open.
   */
  routerSecret: string;
  authenticate: (req: IncomingMessage) => Promise<TAuth>;
  context: (auth: TAuth, req: IncomingMessage) => Promise<TContext> | TContext;
  /** true while the primary store takes requests (GET /ready); see HttpAppOptions.ready. */
  ready: Check;
  /** The bus, Redis, caches: in GET /health and in the metrics, never in /ready. */
  dependencies?: Record<string, Check>;
  /** The service's own metrics, served with the readiness and dependency gauges on GET /metrics. */
  registry?: Registry;
  routes?: Record<string, RouteHandler>;
  host: string;
  port: number;
  maxBodyBytes?: number;
  /**
   * Sees the HTTP server before it listens, e.g. to attach a WebSocket server
   * for subscriptions on the same port. Whoever attaches closes it before `stop`.
   */
  onServer?: (server: Server) => void;
  /** Closes the stores; runs after HTTP has drained and Apollo has stopped. */
  closeStores: () => Promise<void>;
}

export interface Served {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts Apollo, serves it over HTTP and returns a stop that drains before closing stores. */
export async function serve<TContext extends BaseContext, TAuth>(
  options: ServeOptions<TContext, TAuth>,
): Promise<Served> {
  await options.apollo.start();
  const registry = createServiceMetrics({
    ready: options.ready,
    dependencies: options.dependencies ?? {},
    ...(options.registry ? { registry: options.registry } : {}),
  });
  const fromRouter = routerSecretCheck(options.routerSecret);
  const server = createHttpApp({
    logger: options.logger,
    apollo: options.apollo,
    // Before the body is read: a caller that is not the router costs nothing.
    admit: (req) => assertFromRouter(req.headers, fromRouter),
    authenticate: options.authenticate,
    context: options.context,
    ready: options.ready,
    dependencies: options.dependencies ?? {},
    routes: {
      'GET /metrics': async (_req, res) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(await registry.metrics());
      },
      ...options.routes,
    },
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  options.onServer?.(server);
  const port = await listen(server, options.port, options.host);
  const url = `http://${options.host}:${port}/graphql`;
  options.logger.info({ url, port }, 'listening');
  return {
    port,
    url,
    async stop() {
      await closeHttpServer(server);
      await options.apollo.stop();
      await options.closeStores();
    },
  };
}
