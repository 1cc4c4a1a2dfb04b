import type { Server } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  DurationHistogram,
  requestDurationHistogram,
  requestDurationPlugin,
  type StoreClientMetrics,
  storeClientMetrics,
} from '@fitness/server-kit';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { FetchObserver } from './executor/subgraphClient.js';
import type { EngineStats } from './subscriptions/engine.js';

/** The router's metrics; its store clients (the revocation list's Redis) are reported through `storeClient`. */
export interface RouterMetrics extends StoreClientMetrics {
  registry: Registry;
  wsConnectionOpened(): void;
  wsConnectionClosed(): void;
  slowConsumerClosed(): void;
  /** One operation's estimated cost (demand control), and whether it was refused. */
  operationCost(cost: number, refused: boolean): void;
  /** Counts HTTP responses by status. */
  observe(server: Server): void;
  /** The Apollo Server plugin of graphql_request_duration_seconds (by operation, type, outcome). */
  requestPlugin(): ApolloServerPlugin;
  /** Where one subgraph's fetches are measured: router_subgraph_fetch_duration_seconds and _errors_total. */
  subgraphFetches(subgraph: string): FetchObserver;
  /** Logs subscription activity (with events/s) every `intervalMs` while there is any. */
  startActivityLog(logger: Logger, intervalMs?: number): () => void;
}

/**
 * Prometheus metrics of one router (its own registry, so several routers can live
 * in one process): process defaults, HTTP responses, operation durations, subgraph
 * fetch durations and failures, WebSocket connections and the subscription engine's
 * subscriptions, groups, upstreams, events and deliveries, store clients (Redis).
 */
export function createRouterMetrics(
  stats: () => EngineStats,
  fetches: () => { sent: number; shared: number; merged: number } = () => ({ sent: 0, shared: 0, merged: 0 }),
): RouterMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'router_' });
  const responses = new Counter({
    name: 'router_http_responses_total',
    help: 'HTTP responses by status code.',
    labelNames: ['status'],
    registers: [registry],
  });
  const connections = new Gauge({
    name: 'router_ws_connections',
    help: 'Open graphql-ws connections.',
    registers: [registry],
  });
  const slowConsumers = new Counter({
    name: 'router_ws_slow_consumers_closed_total',
    help: 'Connections closed because they did not read their results in time.',
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: (s: EngineStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(stats()));
      },
    });
  gauge('router_subscriptions_active', 'Active client subscriptions.', (s) => s.subscriptions);
  gauge(
    'router_subscription_groups',
    'Distinct client operations being executed per event.',
    (s) => s.groups,
  );
  gauge('router_upstream_subscriptions', 'Subscriptions open to subgraphs.', (s) => s.upstreams);
  gauge('router_upstream_connections', 'graphql-ws connections to subgraphs.', (s) => s.upstreamConnections);
  /** A Prometheus counter over a running total read at scrape time. */
  const totalCounter = (name: string, help: string, total: () => number) => {
    let reported = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = total();
        if (now > reported) this.inc(now - reported);
        reported = now;
      },
    });
  };
  const counter = (name: string, help: string, read: (s: EngineStats) => number) =>
    totalCounter(name, help, () => read(stats()));
  counter(
    'router_subscription_events_total',
    'Events received from subgraphs, per group.',
    (s) => s.eventsReceived,
  );
  counter(
    'router_subscription_executions_total',
    'Plan executions for subscription events.',
    (s) => s.executions,
  );
  counter(
    'router_subscription_messages_total',
    'Results delivered to subscribers.',
    (s) => s.messagesDelivered,
  );

  totalCounter(
    'router_subgraph_requests_total',
    'HTTP requests sent to subgraphs for queries and mutations.',
    () => fetches().sent,
  );
  totalCounter(
    'router_subgraph_fetches_shared_total',
    'Subgraph fetches answered by an identical request already in flight (SUBGRAPH_DEDUP).',
    () => fetches().shared,
  );
  totalCounter(
    'router_subgraph_fetches_merged_total',
    'Entity fetches sent inside a sibling fetch to the same subgraph (SUBGRAPH_FETCH_MERGING).',
    () => fetches().merged,
  );
  const costs = new Histogram({
    name: 'router_operation_estimated_cost',
    help: 'Estimated cost of each operation (demand control), before it is planned.',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000, 100_000],
    registers: [registry],
  });
  const refusedForCost = new Counter({
    name: 'router_operations_refused_cost_total',
    help: 'Operations refused with COST_ESTIMATED_TOO_EXPENSIVE.',
    registers: [registry],
  });

  const requestDurations = requestDurationHistogram(registry);
  const fetchDurations = new DurationHistogram({
    name: 'router_subgraph_fetch_duration_seconds',
    help: 'HTTP requests to a subgraph for queries and mutations, from sending to the whole answer read.',
    labelNames: ['subgraph'],
    registers: [registry],
  });
  const fetchErrors = new Counter({
    name: 'router_subgraph_fetch_errors_total',
    help: 'Subgraph fetches that failed: unavailable (no usable answer: down, time-out, HTTP error) or graphql (an answer with errors).',
    labelNames: ['subgraph', 'kind'],
    registers: [registry],
  });

  const { storeClient } = storeClientMetrics(registry);

  return {
    registry,
    storeClient,
    requestPlugin: () => requestDurationPlugin(requestDurations),
    subgraphFetches(subgraph) {
      const unavailable = fetchErrors.labels(subgraph, 'unavailable');
      const graphql = fetchErrors.labels(subgraph, 'graphql');
      unavailable.inc(0);
      graphql.inc(0);
      return {
        timing: fetchDurations.series(subgraph),
        failed: (kind) => (kind === 'unavailable' ? unavailable : graphql).inc(),
      };
    },
    operationCost(cost, refused) {
      costs.observe(cost);
      if (refused) refusedForCost.inc();
    },
    wsConnectionOpened: () => connections.inc(),
    wsConnectionClosed: () => connections.dec(),
    slowConsumerClosed: () => slowConsumers.inc(),
    observe(server) {
      server.on('request', (_req, res) => {
        res.on('finish', () => responses.inc({ status: String(res.statusCode) }));
      });
    },
    startActivityLog(logger, intervalMs = 60_000) {
      let last = stats();
      let lastAt = Date.now();
      const timer = setInterval(() => {
        const now = stats();
        const seconds = (Date.now() - lastAt) / 1000;
        // Quiet while nothing is subscribed; one line when the last subscription went.
        if (now.subscriptions > 0 || last.subscriptions > 0) {
          logger.info(
            {
              subscriptions: now.subscriptions,
              groups: now.groups,
              upstreams: now.upstreams,
              eventsPerSec: Number(((now.eventsReceived - last.eventsReceived) / seconds).toFixed(2)),
              messagesPerSec: Number(((now.messagesDelivered - last.messagesDelivered) / seconds).toFixed(2)),
            },
            'subscription activity',
          );
        }
        last = now;
        lastAt = Date.now();
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
