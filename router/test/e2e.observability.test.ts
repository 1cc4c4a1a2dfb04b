import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DashboardDocument, LogWorkoutDocument, SignUpDocument } from '@fitness/client';
import {
  bearer,
  execute,
  mongoUrlWithOwnDatabase,
  OwnRedisServer,
  parsePrometheusText,
  postGraphQL,
  type ReceivedSpan,
  realService,
  startOtlpReceiver,
  waitFor,
} from '@fitness/testing';
import type { ServiceName, Stack } from '@fitness/tooling';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHubStack } from './hubStack.js';
import { fetchesOf, startUsageReceiver, tracesOf } from './usageReports.js';

const SERVICES: ServiceName[] = ['router', 'users', 'workouts', 'payments', 'recommendations'];
const SUPERGRAPH = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));
const STUDIO_KEY = 'service:fitness-e2e:not-a-real-key';

const SUBGRAPHS = ['users', 'workouts', 'payments', 'recommendations'];
const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** A traceparent of a trace of its own, as a client that traces would send. */
const newTrace = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};

// Users on MongoDB (a database of this suite's own) and every service on a Redis of
// this suite's own (the services use fixed key names), where the machine has them.
const mongoUrl = realService('mongodb', 'e2e observability: users on MongoDB');
const withRedis = Boolean(realService('redis', 'e2e observability: Redis clients'));

/** The Redis clients each service reports in /metrics (store_client_*) when REDIS_URL is set. */
const REDIS_CLIENTS: Record<ServiceName, string[]> = {
  router: ['revocations', 'revocation_notices'],
  users: ['revocations', 'throttle'],
  workouts: ['revocations', 'leaderboards', 'leaderboard_notices'],
  payments: ['revocations'],
  recommendations: ['revocations', 'recommendation_cache', 'recommendation_features'],
};

/**
 * The supergraph as operators watch it, every service exporting traces over
 * OTLP/HTTP (JSON) to a receiver in this test and the router reporting usage to an
 * Apollo Studio ingress in this test: the traces, the usage report and every
 * service's /metrics after real traffic (sign-up, a logged workout whose events
 * reach other processes through the launcher's hub, the Dashboard that spans all
 * four subgraphs).
 */
describe('observability end to end', () => {
  let stack: Stack;
  let token: string;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let redis: OwnRedisServer | undefined;
  let usage: Awaited<ReturnType<typeof startUsageReceiver>>;
  const dashboardTrace = newTrace();
  const logWorkoutTrace = newTrace();

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    usage = await startUsageReceiver();
    redis = withRedis ? await OwnRedisServer.start() : undefined;
    stack = await startHubStack({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Exported within a tenth of a second, not the default five.
        OTEL_BSP_SCHEDULE_DELAY: '100',
        ...(redis ? { REDIS_URL: redis.url } : {}),
      },
      serviceEnv: {
        // Apollo Studio on, reporting to the receiver here; the supergraph from its file, not Uplink.
        router: {
          APOLLO_KEY: STUDIO_KEY,
          APOLLO_GRAPH_REF: 'fitness-e2e@current',
          APOLLO_USAGE_REPORTING_ENDPOINT: usage.url,
          SUPERGRAPH_PATH: SUPERGRAPH,
        },
        ...(mongoUrl
          ? { users: { MONGODB_URL: mongoUrlWithOwnDatabase(mongoUrl, 'e2e-observability') } }
          : {}),
      },
    });
    const handle = `obs_${randomBytes(3).toString('hex')}`;
    const { body } = await execute(stack.routerUrl, SignUpDocument, {
      input: {
        email: `${handle}@example.com`,
        password: 'correct horse battery',
        handle,
        displayName: 'Observed',
        region: 'EU',
      },
    });
    expect(body.errors).toBeUndefined();
    token = body.data!.signUp.token;
    const logged = await postGraphQL(
      stack.routerUrl,
      print(LogWorkoutDocument),
      {
        input: {
          id: randomUUID(),
          sport: 'STRENGTH',
          startedAt: new Date(Date.now() - 3_600_000).toISOString(),
          durationSec: 3600,
          sets: [{ exerciseId: 'barbell-bench-press', reps: 8, weightKg: 60 }],
        },
      },
      { ...bearer(token), traceparent: logWorkoutTrace.traceparent },
    );
    expect(logged.body.errors).toBeUndefined();
    const dashboard = await postGraphQL(
      stack.routerUrl,
      print(DashboardDocument),
      {},
      { ...bearer(token), traceparent: dashboardTrace.traceparent },
    );
    expect(dashboard.body.errors).toBeUndefined();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await otlp?.stop();
    await redis?.stop();
    usage?.server.close();
  });

  it('should make one Dashboard request one trace with spans of the router and all four subgraphs', async () => {
    const spans = () => otlp.trace(dashboardTrace.traceId);
    const has = (test: (span: ReceivedSpan) => boolean) => spans().some(test);
    // Each process exports its spans as they end, in batches: wait for all that is asserted.
    await waitFor(() => {
      const fetchIds = spans()
        .filter((span) => span.service === 'router' && span.kind === CLIENT)
        .map((span) => span.spanId);
      return (
        has((span) => span.service === 'router' && span.kind === SERVER) &&
        SUBGRAPHS.every(
          (subgraph) =>
            has((span) => span.kind === CLIENT && span.attributes['graphql.subgraph.name'] === subgraph) &&
            has((span) => span.service === subgraph && span.kind === SERVER) &&
            has((span) => span.service === subgraph && /^(Query|Mutation)\./.test(span.name)),
        ) &&
        spans()
          .filter((span) => span.service !== 'router' && span.kind === SERVER)
          .every((span) => fetchIds.includes(span.parentSpanId ?? '')) &&
        ['workouts', 'payments'].every((subgraph) =>
          has((span) => span.service === subgraph && span.attributes['db.system'] === 'postgresql'),
        ) &&
        (!mongoUrl || has((span) => span.service === 'users' && span.attributes['db.system'] === 'mongodb'))
      );
    }, 'the spans of every service in the Dashboard trace');
    const request = spans().find((span) => span.service === 'router' && span.kind === SERVER);
    expect(request).toMatchObject({
      name: 'query Dashboard',
      attributes: { 'graphql.operation.name': 'Dashboard', 'graphql.operation.type': 'query' },
    });
    expect(request!.attributes['graphql.operation.estimated_cost']).toEqual(expect.any(Number));
    // The router's CLIENT spans of subgraph fetches (with REDIS_URL, its revocation checks are CLIENT spans too).
    const fetches = spans().filter(
      (span) =>
        span.service === 'router' && span.kind === CLIENT && 'graphql.subgraph.name' in span.attributes,
    );
    expect(new Set(fetches.map((span) => span.attributes['graphql.subgraph.name']))).toEqual(
      new Set(SUBGRAPHS),
    );
    for (const subgraph of SUBGRAPHS) {
      // Each subgraph's request span continues one of the router's fetch spans...
      const served = spans().filter((span) => span.service === subgraph && span.kind === SERVER);
      expect(served.length, subgraph).toBeGreaterThan(0);
      for (const span of served)
        expect(
          fetches.map((f) => f.spanId),
          subgraph,
        ).toContain(span.parentSpanId);
      // ...and holds a span for the root fields it resolved.
      expect(
        spans().some((span) => span.service === subgraph && /^(Query|Mutation)\./.test(span.name)),
        subgraph,
      ).toBe(true);
    }
    // The stores' statements and commands are spans of the same trace.
    expect(
      spans().some((span) => span.service === 'workouts' && span.attributes['db.system'] === 'postgresql'),
    ).toBe(true);
    expect(
      spans().some((span) => span.service === 'payments' && span.attributes['db.system'] === 'postgresql'),
    ).toBe(true);
    if (mongoUrl) {
      // users' MongoDB commands: which command on which collection, never a filter or a value.
      const mongo = spans().filter(
        (span) => span.service === 'users' && span.attributes['db.system'] === 'mongodb',
      );
      expect(mongo.map((span) => span.attributes['db.collection.name'])).toContain('users');
      for (const span of mongo) expect(span.attributes['db.query.text']).toBeUndefined();
    }
  });

  it("should send the router's subscribe span's traceparent to the subgraph over graphql-ws", async () => {
    const client = createClient({
      url: stack.routerUrl.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const first = new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        {
          query: 'subscription Board($b: LeaderboardInput!) { leaderboardUpdated(board: $b) { metric } }',
          variables: { b: { metric: 'WORKOUTS', period: 'WEEK' } },
        },
        { next: resolve, error: reject, complete: () => {} },
      );
    });
    try {
      expect(await first).toMatchObject({ data: { leaderboardUpdated: { metric: 'WORKOUTS' } } });
      const subscribe = () =>
        otlp.spans.find(
          (span) =>
            span.service === 'router' &&
            span.kind === CLIENT &&
            span.attributes['graphql.operation.type'] === 'subscription',
        );
      await waitFor(() => subscribe() !== undefined, "the router's subscribe span");
      const { traceId, spanId } = subscribe()!;
      await waitFor(
        () =>
          otlp
            .trace(traceId)
            .some(
              (span) => span.service === 'workouts' && span.kind === SERVER && span.parentSpanId === spanId,
            ),
        "the workouts span of the upstream subscription, in the router's trace",
      );
    } finally {
      await client.dispose();
    }
  });

  it("should carry a logWorkout's trace through the outbox and the relay into the leaderboard and recommendations consumers", async () => {
    const spans = () => otlp.trace(logWorkoutTrace.traceId);
    const consumed = (service: string, consumer: string) =>
      spans().find(
        (span) =>
          span.service === service &&
          span.kind === CONSUMER &&
          span.attributes['messaging.consumer.group.name'] === consumer,
      );
    await waitFor(
      () =>
        Boolean(consumed('workouts', 'leaderboards') && consumed('recommendations', 'recommendations')) &&
        spans().some((span) => span.service === 'workouts' && span.kind === PRODUCER) &&
        spans().some((span) => span.service === 'router' && span.kind === SERVER),
      "the router's, the relay's and the consumers' spans in the logWorkout trace",
    );
    const publish = spans().find((span) => span.service === 'workouts' && span.kind === PRODUCER);
    expect(publish).toMatchObject({
      name: 'publish workouts.logged',
      attributes: { 'messaging.destination.name': 'workouts.logged', 'messaging.system': 'ipc' },
    });
    expect(consumed('workouts', 'leaderboards')).toMatchObject({
      name: 'process workouts.logged',
      parentSpanId: publish!.spanId,
    });
    expect(consumed('recommendations', 'recommendations')?.parentSpanId).toBe(publish!.spanId);
    expect(spans().some((span) => span.service === 'router' && span.name === 'mutation LogWorkout')).toBe(
      true,
    );
  });

  const scrape = async (service: ServiceName) => {
    const response = await fetch(`${stack.services[service].url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parsePrometheusText(await response.text());
  };

  it("should serve every service's /metrics as Prometheus text", async () => {
    for (const service of SERVICES) {
      const metrics = await scrape(service);
      expect(metrics.samples.length, service).toBeGreaterThan(0);
    }
  });

  it('should time the operations every service ran, by operation', async () => {
    const served = async (service: ServiceName, operation: string) =>
      (await scrape(service))
        .find('graphql_request_duration_seconds', { operation, outcome: 'ok' })
        .find((s) => s.name.endsWith('_count'))?.value ?? 0;
    expect(await served('router', 'Dashboard')).toBe(1);
    expect(await served('router', 'LogWorkout')).toBe(1);
    // Subgraphs see the router's fetches, named after the client's operation.
    for (const service of ['users', 'workouts', 'payments', 'recommendations'] as const) {
      const metrics = await scrape(service);
      const operations = metrics
        .find('graphql_request_duration_seconds')
        .filter((s) => s.name.endsWith('_count') && s.value > 0)
        .map((s) => s.labels.operation);
      expect(
        operations.some((name) => name?.startsWith('Dashboard')),
        `${service}: ${operations}`,
      ).toBe(true);
    }
  });

  it('should show subgraph fetches by subgraph on the router', async () => {
    const metrics = await scrape('router');
    for (const subgraph of ['users', 'workouts', 'payments', 'recommendations']) {
      const count = metrics
        .find('router_subgraph_fetch_duration_seconds', { subgraph })
        .find((s) => s.name.endsWith('_count'));
      expect(count?.value, subgraph).toBeGreaterThan(0);
      expect(metrics.find('router_subgraph_fetch_errors_total', { subgraph }).length, subgraph).toBe(2);
    }
    expect(metrics.families.has('router_subscriptions_active')).toBe(true);
  });

  it('should show store pools, outboxes, consumers and the cache where each service has them', async () => {
    const pooled = mongoUrl
      ? (['workouts', 'payments', 'users'] as const)
      : (['workouts', 'payments'] as const);
    for (const service of pooled) {
      const metrics = await scrape(service);
      expect(metrics.find('store_pool_connections', { store: service, state: 'idle' }).length, service).toBe(
        1,
      );
    }
    if (mongoUrl) {
      const users = await scrape('users');
      expect(users.find('store_pool_connections', { store: 'users', state: 'max' })[0]?.value).toBe(100);
      expect(
        users.find('store_pool_wait_seconds', { store: 'users' }).find((s) => s.name.endsWith('_count'))
          ?.value,
      ).toBeGreaterThan(0);
    }
    for (const service of ['users', 'workouts', 'payments'] as const) {
      // Each relay publishes what it holds: the backlog drains to zero.
      await waitFor(async () => {
        const metrics = await scrape(service);
        const backlog = metrics.find('outbox_backlog_events');
        return backlog.length === 1 && backlog[0]!.value === 0;
      }, `${service}'s outbox backlog to drain`);
      expect((await scrape(service)).families.has('outbox_oldest_event_age_seconds')).toBe(true);
    }
    // workouts.logged reached the leaderboards (workouts) and recommendations consumers.
    for (const [service, consumer] of [
      ['workouts', 'leaderboards'],
      ['recommendations', 'recommendations'],
    ] as const) {
      await waitFor(async () => {
        const metrics = await scrape(service);
        return (metrics.find('events_consumer_acked_total', { consumer })[0]?.value ?? 0) > 0;
      }, `${consumer} to acknowledge the workout's event`);
      const metrics = await scrape(service);
      expect(metrics.find('events_consumer_lag_seconds', { consumer }).length).toBe(1);
      expect(metrics.find('events_consumer_pending', { consumer })[0]?.value).toBe(0);
      expect(metrics.find('events_consumer_dead_letters_total', { consumer })[0]?.value).toBe(0);
    }
    const recommendations = await scrape('recommendations');
    expect(recommendations.find('cache_lookups_total', { cache: 'recommendations' }).length).toBe(2);
  });

  it.skipIf(!withRedis)("should show every service's Redis clients, connected and idle", async () => {
    for (const service of SERVICES) {
      for (const store of REDIS_CLIENTS[service]) {
        await waitFor(
          async () => (await scrape(service)).find('store_client_connected', { store })[0]?.value === 1,
          `${service}'s ${store} Redis client to be connected`,
        );
        const metrics = await scrape(service);
        expect(metrics.find('store_client_commands', { store, state: 'queued' })[0]?.value, store).toBe(0);
        expect(metrics.find('store_client_commands', { store, state: 'in_flight' }).length, store).toBe(1);
      }
      const reported = new Set(
        (await scrape(service)).find('store_client_connected').map((s) => s.labels.store),
      );
      expect(reported, service).toEqual(new Set(REDIS_CLIENTS[service]));
    }
  });

  // Last: the report of the Dashboard's trace goes out within 10 seconds of it.
  it("should report the Dashboard to Apollo Studio under its name, with every subgraph's own inline trace", async () => {
    const dashboard = () =>
      usage.reports
        .flatMap(({ report }) => tracesOf(report))
        .find(({ key }) => key.startsWith('# Dashboard\n'));
    await waitFor(() => dashboard() !== undefined, "a usage report with the Dashboard's trace", 30_000);
    expect(usage.reports[0]!.apiKey).toBe(STUDIO_KEY);
    const fetches = fetchesOf(dashboard()!.trace.queryPlan);
    expect(new Set(fetches.map((fetch) => fetch.serviceName))).toEqual(new Set(SUBGRAPHS));
    for (const fetch of fetches) expect(fetch.traceParsingFailed, fetch.serviceName ?? '').toBeFalsy();
    // Every subgraph's request came with its trace. Fetches merged into one request (the
    // Dashboard's `plans` with `me`'s `isPremium`) share it: it is on the first of them only,
    // so that Studio counts each field the request resolved once.
    const traced = fetches.filter((fetch) => (fetch.trace?.root?.child?.length ?? 0) > 0);
    expect(new Set(traced.map((fetch) => fetch.serviceName))).toEqual(new Set(SUBGRAPHS));
    expect(traced.length).toBeLessThan(fetches.length);
  }, 40_000);
});
