import type { IncomingMessage, Server } from 'node:http';
import type { BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Check } from './health.js';
import { heldAccountsRoute } from './heldAccounts.js';
import type { RouteHandler } from './http.js';
import { exitOnStartupError, runUntilSignal } from './lifecycle.js';
import { createLogger } from './logger.js';
import { type ConnectionPool, ServiceMetrics } from './metrics.js';
import { type Served, serve } from './serve.js';
import { createSubgraphServer, type SubgraphServerOptions } from './subgraph.js';
import type { SubgraphSettings } from './subgraphConfig.js';
import { startTracing } from './tracing.js';

/** Something started at boot that shutdown stops: a relay, a consumer, a sweeper. */
export interface Stoppable {
  stop(): Promise<void>;
  /** Registers what it has to show in /metrics (an outbox relay: its backlog). */
  observe?(metrics: ServiceMetrics): void;
}

/** The event bus as runSubgraph sees it: reported in /health, closed after every task. */
export interface SubgraphBus {
  ready(): Promise<boolean> | boolean;
  close(): Promise<void>;
}

/** What a subgraph's stores give runSubgraph: readiness, and a close that runs last. */
export interface SubgraphStores {
  /** Whether the primary store takes requests: GET /ready, unless `start` says otherwise. */
  ready: Check;
  close(): Promise<void>;
  /** The primary store's connection pool (pg's Pool), shown in /metrics as store_pool_connections. */
  pool?: ConnectionPool;
}

/** How requests are authenticated: `authenticate` turns each into the resolvers' viewer. */
export interface SubgraphAuth<TViewer = unknown> {
  authenticate(req: IncomingMessage): Promise<TViewer>;
  /** Anything the auth setup started (e.g. a consumer that feeds it); stopped with the background tasks. */
  stop?(): Promise<void>;
}

/** The viewer an auth setup's `authenticate` resolves to. */
export type ViewerOf<TAuth extends SubgraphAuth> = Awaited<ReturnType<TAuth['authenticate']>>;

/** What `start` wires on top of the stores, the bus and the auth setup. */
export interface SubgraphWiring<TContext extends BaseContext, TViewer> {
  context: (viewer: TViewer, req: IncomingMessage) => Promise<TContext> | TContext;
  /** GET /ready. @default the stores' `ready` */
  ready?: Check;
  /** Shown in /health and /metrics beside `bus`; never in /ready. */
  dependencies?: Record<string, Check>;
  /**
   * Consumers, read models, already started: before the outbox relay (a consumer of
   * what it publishes is in place first), stopped after it. Every task stops after
   * HTTP has drained, the last started first, while the bus and the stores are open.
   */
  background?: Stoppable[];
  /**
   * Started by runSubgraph after the outbox relay, in order, and stopped before it:
   * what writes the outbox stops while the relay still runs (a sweeper).
   */
  afterOutbox?: Array<() => Promise<Stoppable> | Stoppable>;
  /**
   * Starts the consumer of users.deleted that erases a deleted account's data here:
   * started last, after the outbox relay, and stopped first, so it finishes the event
   * in hand while the relay, `background` and the stores still run.
   */
  erasure?: () => Promise<Stoppable>;
  /** The user ids held here, for the accounts audit of users: GET /accounts/held, behind the router secret. */
  heldAccounts?: () => Promise<Iterable<string>>;
  /**
   * A WebSocket server on the HTTP port: `attach` sees the server before it
   * listens, `stop` runs before HTTP drains, so no new operation arrives meanwhile.
   */
  websocket?: { attach(server: Server): void; stop(): Promise<void> };
  /** The subgraph's own metrics, served on GET /metrics with readiness and dependencies. */
  registry?: Registry;
  routes?: Record<string, RouteHandler>;
}

/** What `start` gets: everything opened so far. */
export interface SubgraphParts<TConfig, TStores, TBus, TAuth> {
  config: TConfig;
  logger: Logger;
  stores: TStores;
  bus: TBus;
  auth: TAuth;
  /** The service's metrics: register pools, outboxes, caches there (consumers on the bus are already). */
  metrics: ServiceMetrics;
}

export interface SubgraphDefinition<
  TConfig extends SubgraphSettings,
  TStores extends SubgraphStores,
  TBus extends SubgraphBus,
  TAuth extends SubgraphAuth,
  TContext extends BaseContext,
> extends Pick<SubgraphServerOptions<TContext>, 'schemaPath' | 'resolvers' | 'isOwner'> {
  /** The service name: logs (`service`), the bus client's name. */
  name: string;
  /** The service's config.ts: exits, listing every problem, on an invalid configuration. */
  loadConfig: () => TConfig;
  openStores: (config: TConfig, logger: Logger, metrics: ServiceMetrics) => Promise<TStores>;
  /** Opens the event bus, e.g. `connectEventBus` of @fitness/events. */
  connectBus: (options: {
    natsUrl: string | undefined;
    hub: 'ipc' | undefined;
    service: string;
    logger: Logger;
    /** Every consumer started on the bus is reported here. */
    metrics: ServiceMetrics;
  }) => Promise<TBus>;
  /** Sets up token verification, e.g. `subgraphAuth` of @fitness/auth. */
  auth: (parts: {
    config: TConfig;
    logger: Logger;
    bus: TBus;
    service: string;
    /** Where its store clients (the revocation list's Redis) are reported. */
    metrics: ServiceMetrics;
  }) => Promise<TAuth> | TAuth;
  /** Wires the rest: the GraphQL context, background tasks, a WebSocket server, extra checks. */
  start: (
    parts: SubgraphParts<TConfig, TStores, TBus, TAuth>,
  ) => Promise<SubgraphWiring<TContext, ViewerOf<TAuth>>> | SubgraphWiring<TContext, ViewerOf<TAuth>>;
  /**
   * Starts the relay of the service's outbox (e.g. `pgOutbox` of @fitness/subgraph-kit,
   * for its PostgreSQL), once `start` has returned: after `background`, before
   * `afterOutbox` and `erasure`; it stops after them and before `background`.
   */
  outbox?: (parts: SubgraphParts<TConfig, TStores, TBus, TAuth>) => Promise<Stoppable> | Stoppable;
}

export interface RunningSubgraph extends Served {
  logger: Logger;
}

/**
 * Boots a subgraph in the one order every service uses: config, logger, stores,
 * bus, auth, `start` (consumers, sweepers, a WebSocket server: `background`), the
 * outbox relay, `afterOutbox`, the erasure consumer, then HTTP with /health, /ready,
 * /metrics (ServiceMetrics: request durations, the store's pool, every consumer on
 * the bus, what the tasks observe) and /accounts/held. `stop` reverses it: the
 * WebSocket server, HTTP (drained) and Apollo, the erasure (it finishes its event),
 * `afterOutbox`, the relay (it commits its claimed batch), `background` (last started
 * first), the auth setup, the bus, the stores. A failure during start stops what had started.
 */
export async function startSubgraph<
  TConfig extends SubgraphSettings,
  TStores extends SubgraphStores,
  TBus extends SubgraphBus,
  TAuth extends SubgraphAuth,
  TContext extends BaseContext,
>(
  definition: SubgraphDefinition<TConfig, TStores, TBus, TAuth, TContext>,
  logger?: Logger,
): Promise<RunningSubgraph> {
  const config = definition.loadConfig();
  const log = logger ?? createLogger(definition.name, config.logLevel, config.logFormat);
  // What has started so far, stopped last first on a failed start and at shutdown.
  const started: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    while (started.length > 0) await started.pop()!();
  };
  const metrics = new ServiceMetrics();
  // First: the stores' and the bus's spans of start-up are exported too. Flushed last.
  const tracing = await startTracing(definition.name, config.tracing);
  if (tracing) started.push(() => tracing.shutdown());
  try {
    const stores = await definition.openStores(config, log, metrics);
    started.push(() => stores.close());
    if (stores.pool) metrics.storePool(definition.name, stores.pool);
    const bus = await definition.connectBus({
      natsUrl: config.natsUrl,
      hub: config.eventHub,
      service: definition.name,
      logger: log,
      metrics,
    });
    started.push(() => bus.close());
    const auth = await definition.auth({ config, logger: log, bus, service: definition.name, metrics });
    if (auth.stop) started.push(() => auth.stop!());
    const parts = { config, logger: log, stores, bus, auth, metrics };
    const wiring = await definition.start(parts);
    const websocket = wiring.websocket;
    const run = (task: Stoppable) => {
      task.observe?.(metrics);
      started.push(() => task.stop());
    };
    for (const task of wiring.background ?? []) run(task);
    let served: Served;
    try {
      if (definition.outbox) run(await definition.outbox(parts));
      for (const startTask of wiring.afterOutbox ?? []) run(await startTask());
      if (wiring.erasure) run(await wiring.erasure());
      const apollo = createSubgraphServer<TContext>({
        schemaPath: definition.schemaPath,
        resolvers: definition.resolvers,
        ...(definition.isOwner ? { isOwner: definition.isOwner } : {}),
        logger: log,
        production: config.production,
        plugins: [metrics.plugin()],
      });
      const held = wiring.heldAccounts && heldAccountsRoute(config.routerSecret, wiring.heldAccounts);
      served = await serve({
        logger: log,
        apollo,
        routerSecret: config.routerSecret,
        authenticate: (req) => auth.authenticate(req) as Promise<ViewerOf<TAuth>>,
        context: wiring.context,
        ready: wiring.ready ?? stores.ready,
        dependencies: { bus: () => bus.ready(), ...wiring.dependencies },
        registry: wiring.registry ? Registry.merge([metrics.registry, wiring.registry]) : metrics.registry,
        ...(wiring.routes || held ? { routes: { ...wiring.routes, ...held } } : {}),
        ...(websocket ? { onServer: (server: Server) => websocket.attach(server) } : {}),
        host: config.host,
        port: config.port,
        // After HTTP has drained and Apollo has stopped: all that started before, in reverse.
        closeStores: stopAll,
      });
    } catch (error) {
      // What `start` started may hang on it (the leaderboards' consumer and notices).
      await websocket?.stop();
      throw error;
    }
    let stopping: Promise<void> | undefined;
    return {
      port: served.port,
      url: served.url,
      logger: log,
      stop() {
        // The WebSocket server first: no new subscription arrives while HTTP drains.
        stopping ??= (async () => {
          await websocket?.stop();
          await served.stop();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll().catch((err: unknown) => log.error({ err }, 'error while stopping a failed start'));
    throw error;
  }
}

/**
 * A subgraph's whole entry point: startSubgraph, then run until SIGINT or SIGTERM
 * and stop gracefully; a start-up failure is logged and exits with status 1.
 */
export function runSubgraph<
  TConfig extends SubgraphSettings,
  TStores extends SubgraphStores,
  TBus extends SubgraphBus,
  TAuth extends SubgraphAuth,
  TContext extends BaseContext,
>(definition: SubgraphDefinition<TConfig, TStores, TBus, TAuth, TContext>): void {
  startSubgraph(definition).then(
    (running) => runUntilSignal(running, running.logger),
    exitOnStartupError(createLogger(definition.name)),
  );
}
