/**
 * Benchmark (not a test): outbox relay throughput and publish-to-consume latency,
 * for NATS JetStream and the in-process bus in the same run.
 *
 *   pnpm --filter @fitness/events bench
 *
 * Env: NATS_URL (or TEST_NATS_URL) for the NATS rows; BENCH_POSTGRES_URL (or
 * TEST_POSTGRES_URL), an admin URL on which a scratch database is created and
 * dropped, else the embedded PGlite. BENCH_EVENTS (default 10000), BENCH_LATENCY_EVENTS
 * (default 2000).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createPool, type Pool, startEmbeddedPostgres } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { createTestDatabase } from '@fitness/testing';
import {
  createEnvelope,
  type Envelope,
  type EventBus,
  InProcessEventBus,
  NatsEventBus,
  OUTBOX_SQL_PATH,
  OutboxRelay,
  writeOutbox,
} from '../src/index.js';

const logger = createLogger('events-bench', 'warn');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const LATENCY_EVENTS = Number(process.env.BENCH_LATENCY_EVENTS ?? 2_000);
const natsUrl = process.env.NATS_URL || process.env.TEST_NATS_URL;
const pgAdminUrl = process.env.BENCH_POSTGRES_URL || process.env.TEST_POSTGRES_URL;

const event = (i: number): Envelope =>
  createEnvelope(
    'payments.succeeded',
    1,
    { paymentId: `p${i}`, userId: `u${i % 100}`, amountCents: 100 + i, currency: 'EUR' },
    { producer: 'bench' },
  );

async function database(): Promise<{ url: string; engine: string; close(): Promise<void> }> {
  if (pgAdminUrl) {
    const db = await createTestDatabase(pgAdminUrl);
    return { url: db.url, engine: 'postgresql', close: db.drop };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: 'memory://', timescale: false, logger });
  return { url: embedded.url, engine: 'pglite', close: embedded.stop };
}

async function fillOutbox(pool: Pool, n: number): Promise<void> {
  await pool.query('TRUNCATE outbox');
  const client = await pool.connect();
  try {
    for (let start = 0; start < n; start += 1_000) {
      await client.query('BEGIN');
      for (let i = start; i < Math.min(n, start + 1_000); i++)
        await writeOutbox(client, event(i), { channel: null });
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Events/s from a full outbox to "every row marked published". */
async function relayThroughput(pool: Pool, bus: EventBus, listenUrl?: string): Promise<number> {
  await fillOutbox(pool, EVENTS);
  const relay = new OutboxRelay({ pool, bus, logger, batchSize: 500, pollIntervalMs: 10, listenUrl });
  const started = performance.now();
  await relay.start();
  while (relay.stats().published < EVENTS) await sleep(2);
  const seconds = (performance.now() - started) / 1_000;
  await relay.stop();
  return EVENTS / seconds;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** One publish at a time, each timed from the publish call to the consumer's handler. */
async function latency(bus: EventBus, consumer: string): Promise<{ p50: number; p99: number }> {
  const sentAt = new Map<string, number>();
  const samples: number[] = [];
  const subscription = await bus.consume(consumer, {
    subjects: ['payments.succeeded'],
    handler: async (e) => {
      const at = sentAt.get(e.id);
      if (at !== undefined) samples.push(performance.now() - at);
    },
  });
  // Warm-up, not measured: connection buffers, JIT.
  for (let i = 0; i < 200; i++) await bus.publish(event(i));
  for (let i = 0; i < LATENCY_EVENTS; i++) {
    const e = event(i);
    sentAt.set(e.id, performance.now());
    await bus.publish(e);
    // Paced: latency of a steady flow, not of a queue building up.
    if (i % 50 === 0) await sleep(1);
  }
  while (samples.length < LATENCY_EVENTS) await sleep(5);
  await subscription.stop();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function main(): Promise<void> {
  const db = await database();
  const pool = createPool(db.url, { max: 4 });
  await pool.query(readFileSync(OUTBOX_SQL_PATH, 'utf8'));
  const rows: string[] = [];
  const buses: { name: string; create(): Promise<{ bus: EventBus; dispose(): Promise<void> }> }[] = [
    {
      name: 'in-process',
      async create() {
        const bus = new InProcessEventBus();
        return { bus, dispose: () => bus.close() };
      },
    },
  ];
  if (natsUrl) {
    buses.push({
      name: 'nats',
      async create() {
        const bus = await NatsEventBus.connect({
          url: natsUrl,
          logger,
          namespace: `bench${Date.now().toString(36)}`,
        });
        return {
          bus,
          async dispose() {
            await bus.deleteStreams();
            await bus.close();
          },
        };
      },
    });
  } else {
    process.stdout.write('NATS_URL unset: NATS rows skipped\n');
  }
  const listenUrl = db.engine === 'pglite' ? undefined : db.url;
  for (const adapter of buses) {
    const { bus, dispose } = await adapter.create();
    try {
      const throughput = await relayThroughput(pool, bus, listenUrl);
      const { p50, p99 } = await latency(bus, 'benchlatency');
      rows.push(
        `${adapter.name.padEnd(12)} ${Math.round(throughput).toString().padStart(10)} ${p50.toFixed(3).padStart(10)} ${p99.toFixed(3).padStart(10)}`,
      );
    } finally {
      await dispose();
    }
  }
  await pool.end();
  await db.close();
  process.stdout.write(
    `\nrelay: ${EVENTS} events from a full ${db.engine} outbox, batches of 500; latency: ${LATENCY_EVENTS} sequential publishes\n`,
  );
  process.stdout.write(
    `${'bus'.padEnd(12)} ${'relay ev/s'.padStart(10)} ${'p50 ms'.padStart(10)} ${'p99 ms'.padStart(10)}\n`,
  );
  process.stdout.write(`${rows.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
