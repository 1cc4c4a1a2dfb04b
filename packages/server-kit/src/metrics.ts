import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';

/** Bucket bounds, in seconds, of every duration histogram: 1 ms to 10 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Distinct operation names one process reports; the rest count as `(other)`. A
 * client choosing names must not grow the metrics without bound.
 * @default 500
 */
export const MAX_OPERATION_LABELS = 500;

/** One label combination of a DurationHistogram: observing allocates nothing. */
export class DurationSeries {
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/**
 * A Prometheus histogram for the hot path (every request, every subgraph fetch):
 * `series(...)` is looked up through one Map per label, with no key built and no
 * object made once a combination exists, and `observe` adds to numbers. prom-client's
 * Histogram builds a label hash per observation. Served by the prom-client registry
 * it is registered on, like any other metric.
 */
export class DurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly root = new Map<string, unknown>();
  private readonly all: DurationSeries[] = [];

  constructor(
    options: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] },
    private readonly bounds: readonly number[] = DURATION_BUCKETS,
  ) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  readonly labelNames: readonly string[];

  /** The series of these label values, in `labelNames` order. */
  series(...values: string[]): DurationSeries {
    let node = this.root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = node.get(values[i]!) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        node.set(values[i]!, next);
      }
      node = next;
    }
    const last = values[values.length - 1] ?? '';
    let series = node.get(last) as DurationSeries | undefined;
    if (!series) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      series = new DurationSeries(this.bounds, labels);
      node.set(last, series);
      this.all.push(series);
    }
    return series;
  }

  /** What prom-client's registry formats: cumulative buckets, then sum and count, per series. */
  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const series of this.all) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({
          labels: { ...series.labels, le: bound },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      cumulative += series.counts[this.bounds.length]!;
      values.push({
        labels: { ...series.labels, le: '+Inf' },
        value: cumulative,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const series of this.all) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

interface Timed {
  startedAt?: number;
}

/** The operation label of a request: its name, `(anonymous)`, or `(other)` past the limit. */
function operationLabels(limit: number) {
  const seen = new Set<string>();
  return (name: string | undefined | null): string => {
    if (!name) return '(anonymous)';
    if (seen.has(name)) return name;
    if (seen.size >= limit) return '(other)';
    seen.add(name);
    return name;
  };
}

/**
 * graphql_request_duration_seconds of every operation an Apollo Server runs, by
 * operation name, type and outcome (`error` when the response carries errors).
 * The listener is one object for every request; the start time rides on the
 * request's own `metrics`.
 */
export function requestDurationPlugin(
  histogram: DurationHistogram,
  maxOperations = MAX_OPERATION_LABELS,
): ApolloServerPlugin<BaseContext> {
  const operationOf = operationLabels(maxOperations);
  const listener: GraphQLRequestListener<BaseContext> = {
    async willSendResponse(requestContext) {
      const startedAt = (requestContext.metrics as Timed).startedAt;
      if (startedAt === undefined) return;
      const { body } = requestContext.response;
      const failed = body.kind === 'single' ? Boolean(body.singleResult.errors?.length) : false;
      histogram
        .series(
          operationOf(requestContext.operationName),
          requestContext.operation?.operation ?? '',
          failed ? 'error' : 'ok',
        )
        .observe((performance.now() - startedAt) / 1000);
    },
  };
  // One promise for every request: requestDidStart allocates nothing.
  const started = Promise.resolve(listener);
  return {
    requestDidStart(requestContext) {
      (requestContext.metrics as Timed).startedAt = performance.now();
      return started;
    },
  };
}

/** Creates the request duration histogram every service serves. */
export function requestDurationHistogram(registry: Registry): DurationHistogram {
  return new DurationHistogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL operations by name, type and outcome (error: the response carries errors), from request to response.',
    labelNames: ['operation', 'type', 'outcome'],
    registers: [registry],
  });
}

/** A connection pool as pg's Pool shows it (and any pool that counts the same way). */
export interface ConnectionPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number | undefined };
}

/** What a MongoDB client (mongoose's too) emits about its connection pools (CMAP events). */
interface MongoPoolEvents {
  on(
    event:
      | 'connectionCreated'
      | 'connectionClosed'
      | 'connectionCheckOutStarted'
      | 'connectionCheckOutFailed'
      | 'connectionCheckedIn',
    listener: () => void,
  ): unknown;
  on(event: 'connectionCheckedOut', listener: (event: { durationMS?: number }) => void): unknown;
  options?: { maxPoolSize?: number };
}

/**
 * A MongoDB client's connection pools as a ConnectionPool (store_pool_connections),
 * counted from the driver's pool events: connections open, checked out (in use),
 * checkouts waiting for one; `max` is maxPoolSize (per server of a replica set).
 * Each checkout's wait goes to `waits` (store_pool_wait_seconds). Call before the
 * client connects, so that no connection goes uncounted.
 */
export function mongoConnectionPool(
  client: MongoPoolEvents,
  waits?: { observe(seconds: number): void },
): ConnectionPool {
  let open = 0;
  let checkedOut = 0;
  let waiting = 0;
  const less = (n: number) => Math.max(0, n - 1);
  client.on('connectionCreated', () => {
    open += 1;
  });
  client.on('connectionClosed', () => {
    open = less(open);
  });
  client.on('connectionCheckOutStarted', () => {
    waiting += 1;
  });
  client.on('connectionCheckOutFailed', () => {
    waiting = less(waiting);
  });
  client.on('connectionCheckedOut', (event) => {
    waiting = less(waiting);
    checkedOut += 1;
    if (event.durationMS !== undefined) waits?.observe(event.durationMS / 1000);
  });
  client.on('connectionCheckedIn', () => {
    checkedOut = less(checkedOut);
  });
  return {
    get totalCount() {
      return open;
    },
    get idleCount() {
      return Math.max(0, open - checkedOut);
    },
    get waitingCount() {
      return waiting;
    },
    options: { max: client.options?.maxPoolSize },
  };
}

/** A store client of one connection (ioredis), as read at scrape time. */
export interface StoreClientReading {
  /** Connected and ready for commands. */
  connected: boolean;
  /** Commands sent and waiting for their reply. */
  inFlight: number;
  /** Commands held until the connection is ready (an offline queue). */
  queued: number;
}

/** Where store clients are reported: a service's ServiceMetrics, the router's metrics. */
export interface StoreClientMetrics {
  /** Reports a client as store_client_connected{store} and store_client_commands{store,state}. */
  storeClient(store: string, read: () => StoreClientReading): void;
}

/** store_client_connected and store_client_commands on `registry`, of the clients reported to the result. */
export function storeClientMetrics(registry: Registry): StoreClientMetrics {
  const clients = new Map<string, () => StoreClientReading>();
  new Gauge({
    name: 'store_client_connected',
    help: "1 while a store client's connection (Redis) is ready for commands, 0 while it connects or reconnects.",
    labelNames: ['store'],
    registers: [registry],
    collect() {
      for (const [store, read] of clients) this.set({ store }, read().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'store_client_commands',
    help: 'Commands of a store client (Redis) by state: in_flight (sent, awaiting the reply), queued (held until it is connected).',
    labelNames: ['store', 'state'],
    registers: [registry],
    collect() {
      for (const [store, read] of clients) {
        const reading = read();
        this.set({ store, state: 'in_flight' }, reading.inFlight);
        this.set({ store, state: 'queued' }, reading.queued);
      }
    },
  });
  return {
    storeClient(store, read) {
      clients.set(store, read);
    },
  };
}

/** An outbox's events not yet published, and how long the oldest has waited. */
export interface OutboxBacklog {
  events: number;
  oldestAgeSeconds: number;
}

/** One event consumer, as its subscription and the broker see it. */
export interface ConsumerReading {
  /** Events not delivered yet plus delivered and unacknowledged, as the broker tells; null when it cannot. */
  pending: number | null;
  /** From `occurredAt` to handled, of the last event handled; null before the first. */
  lagSeconds: number | null;
  /** Totals since the consumer started. */
  acked: number;
  retried: number;
  deadLettered: number;
}

/** Counts the lookups of one cache; the hit ratio is hits over both. */
export interface CacheLookups {
  hit(): void;
  miss(): void;
}

/** Runs `read` once per scrape: every metric collected in one scrape shares its answer. */
function oncePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    // Every metric of a scrape starts collecting in one synchronous loop, before this settles.
    running ??= read().finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** Reads every entry of `readers`, an entry that throws counting as absent. */
async function readAll<T>(readers: Map<string, () => Promise<T> | T>): Promise<Map<string, T | undefined>> {
  const entries = await Promise.all(
    [...readers].map(async ([name, read]) => {
      const value = await Promise.resolve()
        .then(read)
        .catch(() => undefined);
      return [name, value] as const;
    }),
  );
  return new Map(entries);
}

/**
 * A Prometheus counter over running totals read at scrape time, one per label
 * value. A total that went back (its consumer started again) counts on from zero.
 */
function totalsCounter(
  registry: Registry,
  options: { name: string; help: string; label: string },
  read: () => Promise<Map<string, number | undefined>>,
): void {
  const reported = new Map<string, number>();
  new Counter({
    name: options.name,
    help: options.help,
    labelNames: [options.label],
    registers: [registry],
    async collect() {
      for (const [value, total] of await read()) {
        if (total === undefined) continue;
        const before = reported.get(value) ?? 0;
        const added = total >= before ? total - before : total;
        this.inc({ [options.label]: value }, added);
        reported.set(value, total);
      }
    },
  });
}

/**
 * The metrics of one service on one prom-client registry, served on GET /metrics:
 * process defaults, GraphQL request durations (see requestDurationPlugin), and what
 * the service registers: store pools and their waits, store clients (Redis), outboxes,
 * consumers, caches. Readings of pools, clients, outboxes and consumers are taken at
 * scrape time, not on the request path.
 */
export class ServiceMetrics implements StoreClientMetrics {
  readonly registry: Registry;
  readonly requestDurations: DurationHistogram;
  private readonly pools = new Map<string, ConnectionPool>();
  private readonly poolWaits: DurationHistogram;
  private readonly clients: StoreClientMetrics;
  private readonly outboxes = new Map<string, () => Promise<OutboxBacklog>>();
  private readonly consumers = new Map<string, () => Promise<ConsumerReading> | ConsumerReading>();
  private readonly caches: Counter<string>;

  constructor(options: { registry?: Registry; processMetrics?: boolean } = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
    this.requestDurations = requestDurationHistogram(registry);
    const { pools, outboxes, consumers } = this;
    new Gauge({
      name: 'store_pool_connections',
      help: 'Connections of a store pool by state: in_use, idle, waiting (requests queued for one), max.',
      labelNames: ['store', 'state'],
      registers: [registry],
      collect() {
        for (const [store, pool] of pools) {
          this.set({ store, state: 'in_use' }, pool.totalCount - pool.idleCount);
          this.set({ store, state: 'idle' }, pool.idleCount);
          this.set({ store, state: 'waiting' }, pool.waitingCount);
          if (pool.options?.max !== undefined) this.set({ store, state: 'max' }, pool.options.max);
        }
      },
    });
    this.poolWaits = new DurationHistogram({
      name: 'store_pool_wait_seconds',
      help: 'How long each checkout of a store pool connection waited for one (MongoDB pools).',
      labelNames: ['store'],
      registers: [registry],
    });
    this.clients = storeClientMetrics(registry);
    const readOutboxes = oncePerScrape(() => readAll(outboxes));
    const outboxGauge = (name: string, help: string, pick: (b: OutboxBacklog) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['outbox'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const [outbox, backlog] of await readOutboxes()) {
            if (backlog) this.set({ outbox }, pick(backlog));
          }
        },
      });
    outboxGauge(
      'outbox_backlog_events',
      'Events written to the outbox and not published yet.',
      (b) => b.events,
    );
    outboxGauge(
      'outbox_oldest_event_age_seconds',
      'How long the oldest unpublished outbox event has waited (0 when none waits).',
      (b) => b.oldestAgeSeconds,
    );
    const readConsumers = oncePerScrape(() => readAll(consumers));
    const consumerGauge = (name: string, help: string, pick: (r: ConsumerReading) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['consumer'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const [consumer, reading] of await readConsumers()) {
            const value = reading ? pick(reading) : null;
            if (value !== null) this.set({ consumer }, value);
          }
        },
      });
    consumerGauge(
      'events_consumer_pending',
      'Events a consumer has not acknowledged: not delivered yet, or delivered and in flight or waiting for a retry.',
      (r) => r.pending,
    );
    consumerGauge(
      'events_consumer_lag_seconds',
      'From occurredAt to handled, of the last event a consumer handled.',
      (r) => r.lagSeconds,
    );
    const consumerTotal = (name: string, help: string, pick: (r: ConsumerReading) => number) =>
      totalsCounter(registry, { name, help, label: 'consumer' }, async () => {
        const totals = new Map<string, number | undefined>();
        for (const [consumer, reading] of await readConsumers())
          totals.set(consumer, reading && pick(reading));
        return totals;
      });
    consumerTotal(
      'events_consumer_acked_total',
      'Events a consumer handled and acknowledged (duplicates it skipped included).',
      (r) => r.acked,
    );
    consumerTotal(
      'events_consumer_retried_total',
      'Handler failures of a consumer that were scheduled for a retry.',
      (r) => r.retried,
    );
    consumerTotal(
      'events_consumer_dead_letters_total',
      'Events a consumer gave up on (dead-lettered on dlq.<consumer>).',
      (r) => r.deadLettered,
    );
    this.caches = new Counter({
      name: 'cache_lookups_total',
      help: 'Cache lookups by result (hit, miss); the hit ratio is hit over both.',
      labelNames: ['cache', 'result'],
      registers: [registry],
    });
  }

  /** Reports a store's connection pool as store_pool_connections{store}. */
  storePool(store: string, pool: ConnectionPool): void {
    this.pools.set(store, pool);
  }

  /** Where a store pool's checkout waits go: store_pool_wait_seconds{store}. */
  storePoolWaits(store: string): DurationSeries {
    return this.poolWaits.series(store);
  }

  storeClient(store: string, read: () => StoreClientReading): void {
    this.clients.storeClient(store, read);
  }

  /** Reports an outbox as outbox_backlog_events and outbox_oldest_event_age_seconds{outbox}. */
  outbox(outbox: string, backlog: () => Promise<OutboxBacklog>): void {
    this.outboxes.set(outbox, backlog);
  }

  /**
   * Reports a consumer: events_consumer_pending, _lag_seconds, _acked_total,
   * _retried_total and _dead_letters_total{consumer}. `read` gives totals since it started.
   */
  consumer(consumer: string, read: () => Promise<ConsumerReading> | ConsumerReading): void {
    this.consumers.set(consumer, read);
  }

  /** Counts one cache's lookups as cache_lookups_total{cache, result}. */
  cache(cache: string): CacheLookups {
    const hits = this.caches.labels(cache, 'hit');
    const misses = this.caches.labels(cache, 'miss');
    hits.inc(0);
    misses.inc(0);
    return { hit: () => hits.inc(), miss: () => misses.inc() };
  }

  /** The Apollo Server plugin that fills graphql_request_duration_seconds. */
  plugin(): ApolloServerPlugin<BaseContext> {
    return requestDurationPlugin(this.requestDurations);
  }
}
