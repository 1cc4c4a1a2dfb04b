import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UplinkSupergraphManager } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginUsageReporting } from '@apollo/server/plugin/usageReporting';
import { bearerToken, createTokenVerifier, viewerFromAuthorization, viewerFromHeaders } from '@fitness/auth';
import {
  apolloServerLogger,
  badUserInput,
  closeHttpServer,
  createFormatError,
  createHttpApp,
  currentRequestId,
  errorRequestIdPlugin,
  invalidCredentials,
  type Logger,
  listen,
  operationSpanPlugin,
  requestUrl,
  runInRequestScope,
  saneRequestId,
  tracingEnabled,
} from '@fitness/server-kit';
import { trace } from '@opentelemetry/api';
import { getOperationAST, parse } from 'graphql';
import { clientAddressOf } from './clientAddress.js';
import type { RouterConfig } from './config.js';
import type { RouterContext } from './context.js';
import { DemandControl } from './demandControl.js';
import { RouterGateway } from './gateway.js';
import { nestsDeeperThan, operationLimitRules, tooDeeplyNested } from './limits.js';
import { createRouterMetrics } from './metrics.js';
import { PersistedQueries } from './persistedQueries.js';
import { refusesConnection, startRevocations } from './revocation.js';
import { OperationSafelist } from './safelist.js';
import { SubgraphDataSource } from './subgraphDataSource.js';
import { SubscriptionEngine } from './subscriptions/engine.js';
import {
  MultipartQuota,
  SSE,
  serveHttpSubscription,
  subscriptionFramingFor,
} from './subscriptions/httpStreams.js';
import { serveWebSockets } from './subscriptions/wsServer.js';
import { supergraphFromFile } from './supergraph.js';

export interface RunningRouter {
  port: number;
  url: string;
  engine: SubscriptionEngine;
  stop(): Promise<void>;
}

/** The request id a client or load balancer sent, if it is sane; a new one otherwise. */
function requestIdOf(header: string | string[] | undefined): string {
  return saneRequestId(header) ?? randomUUID();
}

/** A GraphQL request from a POST body or a GET query string; undefined if it is neither. */
function requestOf(
  req: IncomingMessage,
  body: unknown,
): { query?: unknown; variables?: unknown; operationName?: unknown; extensions?: unknown } | undefined {
  if (req.method === 'POST') return typeof body === 'object' && body !== null ? body : undefined;
  const params = requestUrl(req).searchParams;
  const json = (name: string) => {
    const raw = params.get(name);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  };
  return { query: params.get('query') ?? undefined, extensions: json('extensions') };
}

/**
 * Where the supergraph comes from: the file, or with Apollo Studio configured and
 * no SUPERGRAPH_PATH, Uplink (managed federation), polled for new compositions.
 */
function supergraphSource(config: RouterConfig, logger: Logger) {
  if (config.supergraphPath) return supergraphFromFile(config.supergraphPath, logger);
  const studio = config.studio!;
  logger.info(
    { graphRef: studio.graphRef },
    'loading the supergraph from Apollo Uplink (managed federation)',
  );
  return new UplinkSupergraphManager({
    apiKey: studio.key,
    graphRef: studio.graphRef,
    logger,
    ...(studio.uplinkEndpoints ? { uplinkEndpoints: studio.uplinkEndpoints } : {}),
  });
}

/**
 * Apollo Studio's usage reports (operation signatures, field usage, traces with the
 * subgraphs' inline traces), when APOLLO_KEY and APOLLO_GRAPH_REF are set; variable
 * values and headers are never sent, errors only masked. Without them, explicitly
 * nothing, whatever Apollo Server finds in the environment.
 */
function usageReporting(config: RouterConfig) {
  if (!config.studio) return ApolloServerPluginUsageReportingDisabled();
  return ApolloServerPluginUsageReporting({
    ...(config.studio.usageReportingEndpoint ? { endpointUrl: config.studio.usageReportingEndpoint } : {}),
    sendVariableValues: { none: true },
    sendHeaders: { none: true },
    sendErrors: { masked: true },
  });
}

/** Builds the gateway, Apollo Server and HTTP server, and listens. */
export async function startRouter(config: RouterConfig, logger: Logger): Promise<RunningRouter> {
  let ready = false;
  // Every data source the gateway built, so that stop closes their connection pools.
  const dataSources: SubgraphDataSource[] = [];
  const gateway = new RouterGateway({
    supergraphSdl: supergraphSource(config, logger),
    buildService: ({ name, url }) => {
      const target = config.subgraphUrls[name.toLowerCase()] ?? url;
      if (!target)
        throw new Error(`Subgraph "${name}" has no routing URL; set SUBGRAPH_${name.toUpperCase()}_URL.`);
      const source = new SubgraphDataSource(target, config.subgraphTimeoutMs, {
        name,
        logger,
        routerSecret: config.routerSecret,
        dedupe: config.subgraphDedup,
        observer: metrics.subgraphFetches(name),
      });
      dataSources.push(source);
      return source;
    },
    logger,
    executorMode: config.executor,
    mergeFetches: config.mergeFetches,
    inboundDedup: config.inboundDedup,
    // Sandbox's query plan view, as @apollo/gateway offers it outside production.
    exposeQueryPlans: !config.production,
  });
  const validationRules = operationLimitRules(config.operationLimits);
  // The engine's stats are read at scrape time, once it exists.
  const metrics = createRouterMetrics(
    () => engine.stats(),
    () => {
      const total = {
        sent: 0,
        shared: 0,
        merged: gateway.planExecutor.counters.merged + engine.mergedFetches,
      };
      for (const source of dataSources) {
        total.sent += source.counters.sent;
        total.shared += source.counters.shared;
      }
      return total;
    },
  );
  const demand = new DemandControl({
    ...config.demandControl,
    onEstimate: (cost, refused) => {
      metrics.operationCost(cost, refused);
      // On the request's span (see operationSpanPlugin), while tracing.
      if (tracingEnabled()) trace.getActiveSpan()?.setAttribute('graphql.operation.estimated_cost', cost);
    },
    onOverLimit: (details) =>
      logger.warn(
        { ...details, mode: config.demandControl.mode },
        config.demandControl.mode === 'enforce'
          ? 'operation refused: estimated cost over the limit'
          : 'operation over the cost limit (measure mode: served anyway)',
      ),
  });
  const engine = new SubscriptionEngine({
    logger,
    validationRules,
    subgraphUrls: config.subgraphUrls,
    subgraphTimeoutMs: config.subgraphTimeoutMs,
    limits: {
      maxSubscriptions: config.subscriptions.maxSubscriptions,
      sharing: config.subscriptions.sharing,
    },
    upstream: { retryAttempts: config.subscriptions.retryAttempts, routerSecret: config.routerSecret },
    routerSecret: config.routerSecret,
    subgraphDedup: config.subgraphDedup,
    fetchObserver: (name) => metrics.subgraphFetches(name),
    executorMode: config.executor,
    mergeFetches: config.mergeFetches,
    hideSchemaDetails: config.production,
    admit: (schema, document, operationName, variables, requestId) => {
      demand.check(schema, document, operationName, variables, requestId);
    },
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    demand.updateSupergraph(coreSupergraphSdl);
    engine.updateSchema(coreSupergraphSdl, apiSchema);
    ready = true;
  });

  const httpSubscriptionQuota = new MultipartQuota(config.subscriptions.maxSubscriptionsPerConnection);
  const persistedQueries = new PersistedQueries();
  const safelist = config.operationSafelist
    ? OperationSafelist.fromFile(config.operationSafelist)
    : undefined;
  if (safelist) {
    // Listed operations can be sent by their id alone, as persisted queries.
    for (const [id, body] of safelist.entries()) await persistedQueries.register(id, body);
    logger.info({ operations: safelist.size }, 'safelist mode: only the listed operations are served');
  }
  /** What every operation passes before it is parsed, on every transport. */
  const admitSource = (query: string) => {
    if (nestsDeeperThan(query)) throw tooDeeplyNested();
    safelist?.check(query);
  };

  const apollo = new ApolloServer<RouterContext>({
    gateway,
    introspection: !config.production,
    validationRules,
    includeStacktraceInErrorResponses: false,
    // Our own signal handling drains HTTP first, then stops Apollo, then closes stores.
    stopOnTerminationSignals: false,
    // Production: no name suggestions, no subgraph names in what clients see.
    formatError: createFormatError(logger, { hideSchemaDetails: config.production }),
    persistedQueries: { cache: persistedQueries.cache },
    // Its request-time line about a request that threw is errorRequestIdPlugin's, with the id.
    logger: apolloServerLogger(logger),
    // The graph's key and ref (usage reporting; Uplink through the gateway's load).
    ...(config.studio ? { apollo: { key: config.studio.key, graphRef: config.studio.graphRef } } : {}),
    plugins: [
      usageReporting(config),
      errorRequestIdPlugin<RouterContext>((context) => context.requestId, logger),
      metrics.requestPlugin(),
      ...(tracingEnabled() ? [operationSpanPlugin()] : []),
      demand.plugin(),
      config.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
  await apollo.start();

  /** Runs a query or mutation outside Apollo's HTTP path (graphql-ws, SSE), through its pipeline. */
  const executeOnce = async (
    request: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
    auth: RouterContext,
  ) => {
    const response = await apollo.executeOperation(
      {
        query: request.query,
        variables: request.variables ?? {},
        ...(request.operationName ? { operationName: request.operationName } : {}),
      },
      { contextValue: auth },
    );
    return response.body.kind === 'single'
      ? response.body.singleResult
      : { errors: [{ message: 'Incremental delivery is not supported on this transport.' }] };
  };
  // Revoked tokens (a deleted account, a signOutEverywhere) are refused like invalid ones.
  const revocations = await startRevocations(config.revocation, logger, metrics);
  const verify = createTokenVerifier(config.tokens, { revocations: revocations.list });
  const identify = (
    viewer: RouterContext['viewer'],
    req: IncomingMessage,
    requestId: string,
  ): RouterContext => ({
    viewer,
    authorization: viewer.userId ? req.headers.authorization : undefined,
    requestId,
    clientAddress: clientAddressOf(
      req.socket.remoteAddress,
      req.headers['x-forwarded-for'],
      config.trustedProxies,
    ),
  });
  const server = createHttpApp<RouterContext, RouterContext>({
    logger,
    apollo,
    maxBodyBytes: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    // On every log line of the request, here and (forwarded) in every subgraph.
    requestId: (req) => requestIdOf(req.headers['x-request-id']),
    // Only while tracing (which needs it anyway): on Node 20 an AsyncLocalStorage in
    // use costs every promise a hook. Otherwise the router's request-time log lines
    // (outages, cost, unexpected errors, mismatches) carry the request id themselves.
    requestScope: tracingEnabled(),
    // The token is checked before planning: a bad one is a 401, not a partial result.
    // The request id is the one createHttpApp chose for the request (see `requestId` above).
    authenticate: async (req, chosen) => {
      const requestId = chosen ?? currentRequestId() ?? requestIdOf(req.headers['x-request-id']);
      return identify(await viewerFromHeaders(req.headers, verify, requestId), req, requestId);
    },
    // Subscriptions over HTTP: Apollo Server cannot run them on a gateway; the engine can.
    // Subscriptions over HTTP (multipart, SSE): Apollo Server cannot run them on a
    // gateway; the engine can. Automatic persisted queries work for them too.
    beforeGraphQL: async (req, res, body, auth) => {
      const request = requestOf(req, body);
      if (!request) return false; // Apollo Server explains what is wrong with it
      const { query } = await persistedQueries.resolve(request);
      // Every operation, whatever it is: unparsable nesting and unlisted documents
      // are refused here, before Apollo Server parses or the gateway plans.
      if (typeof query === 'string') admitSource(query);
      if (req.method !== 'POST') return false;
      const framing = subscriptionFramingFor(req);
      // Only a subscription, or anything asked for as an event stream, is ours.
      if (typeof query !== 'string' || (!query.includes('subscription') && framing !== SSE)) return false;
      const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
      let kind: string | undefined;
      try {
        kind = getOperationAST(parse(query), operationName)?.operation;
      } catch {
        return false; // Apollo Server reports the parse error
      }
      if (kind !== 'subscription' && framing !== SSE) return false;
      if (!framing) {
        throw badUserInput(
          'Subscriptions need graphql-ws on this path, or an Accept header of multipart/mixed;subscriptionSpec=1.0 or text/event-stream.',
        );
      }
      const hash = (request.extensions as { persistedQuery?: { sha256Hash?: string } } | undefined)
        ?.persistedQuery?.sha256Hash;
      if (hash && typeof request.query === 'string') await persistedQueries.register(hash, query);
      const variables = (request.variables as Record<string, unknown> | null | undefined) ?? {};
      if (kind !== 'subscription') {
        // A query or mutation asked for over SSE: one `next`, then `complete`.
        const result = await executeOnce({ query, variables, operationName }, auth);
        res.writeHead(200, { 'content-type': SSE.contentType, 'cache-control': 'no-cache' });
        res.end(`${SSE.result(JSON.stringify(result))}${SSE.end}`);
        return true;
      }
      serveHttpSubscription(
        engine,
        { query, operationName, variables, ...auth },
        res,
        httpSubscriptionQuota,
        framing,
        {
          heartbeatMs: config.subscriptions.heartbeatMs,
          highWaterMarkBytes: config.subscriptions.highWaterMarkBytes,
          slowConsumerTimeoutMs: config.subscriptions.slowConsumerTimeoutMs,
          onSlowConsumer: () => metrics.slowConsumerClosed(),
        },
      );
      return true;
    },
    context: (auth) => auth,
    ready: async () => ready,
    routes: {
      ...(config.metricsEnabled
        ? {
            'GET /metrics': async (_req, res) => {
              res.writeHead(200, { 'content-type': metrics.registry.contentType });
              res.end(await metrics.registry.metrics());
            },
          }
        : {}),
      ...(config.production
        ? {}
        : {
            'GET /': (_req, res) => {
              res.writeHead(302, { location: '/graphql' }).end();
            },
          }),
    },
  });
  metrics.observe(server);
  // graphql-transport-ws on the same path: the token travels in connection_init's
  // payload and is checked once, when the connection opens.
  const ws = serveWebSockets<RouterContext>({
    server,
    path: '/graphql',
    logger,
    engine,
    limits: {
      maxSubscriptionsPerConnection: config.subscriptions.maxSubscriptionsPerConnection,
      maxConnectionsPerAddress: config.subscriptions.maxConnectionsPerAddress,
      connectionInitTimeoutMs: config.subscriptions.connectionInitTimeoutMs,
      slowConsumerTimeoutMs: config.subscriptions.slowConsumerTimeoutMs,
      highWaterMarkBytes: config.subscriptions.highWaterMarkBytes,
    },
    authenticate: async (payload, req) => {
      const raw = payload.authorization ?? payload.Authorization;
      if (raw !== undefined && raw !== null && typeof raw !== 'string') {
        throw invalidCredentials('connectionParams.authorization must be a string "Bearer <token>".');
      }
      const authorization = raw ?? undefined;
      // The connection's request id: its subscriptions' lines and subgraph requests carry it.
      const requestId = requestIdOf(req.headers['x-request-id']);
      const viewer = await viewerFromAuthorization(authorization, verify, requestId);
      const token = viewer.userId ? bearerToken(authorization) : undefined;
      // Verified just above; read again for its expiry, which the socket must not outlive,
      // and its issue time, which a revocation may refuse.
      const verified = token ? await verify(token, requestId) : undefined;
      return {
        ...identify(viewer, req, requestId),
        authorization: viewer.userId ? authorization : undefined,
        tokenExpiresAt: verified?.expiresAt,
        tokenIssuedAt: verified?.issuedAt,
      };
    },
    expiresAt: (auth) => auth.tokenExpiresAt,
    revocations: {
      onRevoked: (listener) => revocations.list.onRevoked(listener),
      refuses: refusesConnection,
    },
    admitSource,
    clientAddress: (req) =>
      clientAddressOf(req.socket.remoteAddress, req.headers['x-forwarded-for'], config.trustedProxies),
    identity: (auth) => auth,
    // A request id per operation, as over HTTP, on the operation's log lines too.
    execute: (request, auth) => {
      const requestId = requestIdOf(undefined);
      if (!tracingEnabled()) return executeOnce(request, { ...auth, requestId });
      return runInRequestScope({ requestId }, () => executeOnce(request, { ...auth, requestId }));
    },
    metrics: {
      connectionOpened: metrics.wsConnectionOpened,
      connectionClosed: metrics.wsConnectionClosed,
      slowConsumerClosed: metrics.slowConsumerClosed,
    },
  });
  const stopActivityLog = metrics.startActivityLog(logger);
  const port = await listen(server, config.port, config.host);
  const url = `http://${config.host}:${port}/graphql`;
  logger.info({ url, port }, 'router listening');
  return {
    port,
    url,
    engine,
    async stop() {
      stopActivityLog();
      await ws.close();
      await engine.close();
      await closeHttpServer(server);
      await apollo.stop();
      await Promise.all(dataSources.map((source) => source.close()));
      await revocations.stop();
    },
  };
}
