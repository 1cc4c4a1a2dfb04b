import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  DurationHistogram,
  mongoConnectionPool,
  ROUTER_SECRET_HEADER,
  type RunningSubgraph,
  ServiceMetrics,
  startSubgraph,
} from '../src/index.js';
import { echoSubgraph } from './fixtures/echoSubgraph.js';

const secret = 'echo-router-secret-echo-router-secret';
const running: RunningSubgraph[] = [];

afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
});

/** The sample lines of one metric family in an exposition. */
const samples = (text: string, name: string) =>
  text.split('\n').filter((line) => line.startsWith(name) && !line.startsWith('#'));

describe('DurationHistogram', () => {
  it('should serve cumulative buckets, +Inf, sum and count per label combination', async () => {
    const registry = new Registry();
    const histogram = new DurationHistogram(
      { name: 'work_seconds', help: 'Work.', labelNames: ['kind'], registers: [registry] },
      [0.1, 1],
    );
    const fast = histogram.series('fast');
    fast.observe(0.05);
    fast.observe(0.5);
    histogram.series('slow').observe(3);
    expect(histogram.series('fast')).toBe(fast);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE work_seconds histogram');
    expect(samples(text, 'work_seconds')).toEqual([
      'work_seconds_bucket{kind="fast",le="0.1"} 1',
      'work_seconds_bucket{kind="fast",le="1"} 2',
      'work_seconds_bucket{kind="fast",le="+Inf"} 2',
      'work_seconds_sum{kind="fast"} 0.55',
      'work_seconds_count{kind="fast"} 2',
      'work_seconds_bucket{kind="slow",le="0.1"} 0',
      'work_seconds_bucket{kind="slow",le="1"} 0',
      'work_seconds_bucket{kind="slow",le="+Inf"} 1',
      'work_seconds_sum{kind="slow"} 3',
      'work_seconds_count{kind="slow"} 1',
    ]);
  });
});

describe('ServiceMetrics', () => {
  it('should read pools, outboxes and consumers at scrape time and count cache lookups', async () => {
    const metrics = new ServiceMetrics({ processMetrics: false });
    const pool = { totalCount: 4, idleCount: 1, waitingCount: 2, options: { max: 10 } };
    metrics.storePool('orders', pool);
    let backlog = { events: 3, oldestAgeSeconds: 12.5 };
    metrics.outbox('outbox', async () => backlog);
    metrics.outbox('broken', async () => {
      throw new Error('database down');
    });
    let totals = { acked: 5, retried: 1, deadLettered: 1 };
    metrics.consumer('orders-projection', async () => ({ pending: 7, lagSeconds: 0.25, ...totals }));
    const lookups = metrics.cache('advice');
    lookups.hit();
    lookups.hit();
    lookups.miss();

    const first = await metrics.registry.metrics();
    expect(samples(first, 'store_pool_connections')).toEqual([
      'store_pool_connections{store="orders",state="in_use"} 3',
      'store_pool_connections{store="orders",state="idle"} 1',
      'store_pool_connections{store="orders",state="waiting"} 2',
      'store_pool_connections{store="orders",state="max"} 10',
    ]);
    expect(samples(first, 'outbox_')).toEqual([
      'outbox_backlog_events{outbox="outbox"} 3',
      'outbox_oldest_event_age_seconds{outbox="outbox"} 12.5',
    ]);
    expect(samples(first, 'events_consumer_')).toEqual([
      'events_consumer_pending{consumer="orders-projection"} 7',
      'events_consumer_lag_seconds{consumer="orders-projection"} 0.25',
      'events_consumer_acked_total{consumer="orders-projection"} 5',
      'events_consumer_retried_total{consumer="orders-projection"} 1',
      'events_consumer_dead_letters_total{consumer="orders-projection"} 1',
    ]);
    expect(samples(first, 'cache_lookups_total')).toEqual([
      'cache_lookups_total{cache="advice",result="hit"} 2',
      'cache_lookups_total{cache="advice",result="miss"} 1',
    ]);

    pool.idleCount = 4;
    backlog = { events: 0, oldestAgeSeconds: 0 };
    totals = { acked: 9, retried: 1, deadLettered: 2 };
    const second = await metrics.registry.metrics();
    expect(second).toContain('store_pool_connections{store="orders",state="in_use"} 0');
    expect(second).toContain('outbox_backlog_events{outbox="outbox"} 0');
    expect(second).toContain('events_consumer_acked_total{consumer="orders-projection"} 9');
    expect(second).toContain('events_consumer_dead_letters_total{consumer="orders-projection"} 2');
  });

  it("should count a MongoDB client's pool from its pool events, and its checkouts' waits", async () => {
    const metrics = new ServiceMetrics({ processMetrics: false });
    const client = Object.assign(new EventEmitter(), { options: { maxPoolSize: 5 } });
    metrics.storePool('users', mongoConnectionPool(client, metrics.storePoolWaits('users')));
    // Three checkouts at once: two get a new connection (after 3 ms), one waits on.
    for (let i = 0; i < 3; i++) client.emit('connectionCheckOutStarted', {});
    client.emit('connectionCreated', {});
    client.emit('connectionCreated', {});
    client.emit('connectionCheckedOut', { durationMS: 3 });
    client.emit('connectionCheckedOut', { durationMS: 3 });
    expect(samples(await metrics.registry.metrics(), 'store_pool_connections')).toEqual([
      'store_pool_connections{store="users",state="in_use"} 2',
      'store_pool_connections{store="users",state="idle"} 0',
      'store_pool_connections{store="users",state="waiting"} 1',
      'store_pool_connections{store="users",state="max"} 5',
    ]);
    // One is given back and taken by the waiting checkout; it gives up the other way.
    client.emit('connectionCheckedIn', {});
    client.emit('connectionCheckOutFailed', {});
    client.emit('connectionCheckedIn', {});
    client.emit('connectionClosed', {});
    const calm = await metrics.registry.metrics();
    expect(samples(calm, 'store_pool_connections').slice(0, 3)).toEqual([
      'store_pool_connections{store="users",state="in_use"} 0',
      'store_pool_connections{store="users",state="idle"} 1',
      'store_pool_connections{store="users",state="waiting"} 0',
    ]);
    expect(calm).toContain('store_pool_wait_seconds_bucket{store="users",le="0.0025"} 0');
    expect(calm).toContain('store_pool_wait_seconds_bucket{store="users",le="0.005"} 2');
    expect(calm).toContain('store_pool_wait_seconds_sum{store="users"} 0.006');
    expect(calm).toContain('store_pool_wait_seconds_count{store="users"} 2');
  });

  it("should read each store client's connection and commands at scrape time", async () => {
    const metrics = new ServiceMetrics({ processMetrics: false });
    const reading = { connected: true, inFlight: 3, queued: 0 };
    metrics.storeClient('leaderboards', () => reading);
    const first = await metrics.registry.metrics();
    expect(samples(first, 'store_client_')).toEqual([
      'store_client_connected{store="leaderboards"} 1',
      'store_client_commands{store="leaderboards",state="in_flight"} 3',
      'store_client_commands{store="leaderboards",state="queued"} 0',
    ]);
    Object.assign(reading, { connected: false, inFlight: 0, queued: 4 });
    const second = await metrics.registry.metrics();
    expect(second).toContain('store_client_connected{store="leaderboards"} 0');
    expect(second).toContain('store_client_commands{store="leaderboards",state="queued"} 4');
  });

  it('should count operations past the label limit as (other)', async () => {
    const metrics = new ServiceMetrics({ processMetrics: false });
    const plugin = metrics.plugin() as {
      requestDidStart(rc: unknown): Promise<{ willSendResponse(rc: unknown): Promise<void> }>;
    };
    const run = async (operationName: string) => {
      const rc = {
        metrics: {},
        operationName,
        operation: { operation: 'query' },
        response: { body: { kind: 'single', singleResult: {} } },
      };
      await (await plugin.requestDidStart(rc)).willSendResponse(rc);
    };
    for (let i = 0; i < 501; i++) await run(`Op${i}`);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'graphql_request_duration_seconds_count{operation="Op499",type="query",outcome="ok"} 1',
    );
    expect(text).toContain(
      'graphql_request_duration_seconds_count{operation="(other)",type="query",outcome="ok"} 1',
    );
  });
});

describe('a subgraph’s /metrics', () => {
  it('should time every operation by name, type and outcome and show the store pool and what tasks observe', async () => {
    const pool = { totalCount: 2, idleCount: 2, waitingCount: 0 };
    const service = await startSubgraph(
      echoSubgraph({
        steps: [],
        pool,
        observe: (metrics) => metrics.outbox('outbox', async () => ({ events: 1, oldestAgeSeconds: 2 })),
      }),
      createLogger('echo', 'silent'),
    );
    running.push(service);
    const send = (query: string, variables: Record<string, unknown>) =>
      fetch(service.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ROUTER_SECRET_HEADER]: secret },
        body: JSON.stringify({ query, variables }),
      });
    await send('query Echo($text: String!) { echo(text: $text) }', { text: 'hi' });
    await send('query Echo($text: String!) { echo(text: $text) }', { text: 'fail' });
    await send('{ viewer }', {});
    const text = await (await fetch(service.url.replace(/graphql$/, 'metrics'))).text();
    expect(text).toContain(
      'graphql_request_duration_seconds_count{operation="Echo",type="query",outcome="ok"} 1',
    );
    expect(text).toContain(
      'graphql_request_duration_seconds_count{operation="Echo",type="query",outcome="error"} 1',
    );
    expect(text).toContain(
      'graphql_request_duration_seconds_count{operation="(anonymous)",type="query",outcome="ok"} 1',
    );
    expect(text).toContain('store_pool_connections{store="echo",state="idle"} 2');
    expect(text).toContain('outbox_backlog_events{outbox="outbox"} 1');
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    // The subgraph's own registry is served beside these.
    expect(text).toMatch(/^echo_requests_total [1-9]/m);
  });
});
