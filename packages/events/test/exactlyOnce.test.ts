import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPool, type Pool } from '@fitness/pg-kit';
import { createTestDatabase, hasNatsServer, OwnNatsServer, realService } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsumerMetrics,
  NatsEventBus,
  OUTBOX_SQL_PATH,
  type OutboxRelayStats,
  PROCESSED_EVENTS_SQL_PATH,
  writeOutbox,
} from '../src/index.js';
import { silent, uniqueNamespace, waitFor, workoutLogged } from './helpers.js';

const TOTAL = 10_000;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A relay or consumer in its own process, so it can be SIGKILLed like a crashed pod. */
class Worker {
  private readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(script: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture(script)], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async said(line: string): Promise<void> {
    await waitFor(() => this.lines.includes(line) || this.child.exitCode !== null, 60_000, line);
    if (!this.lines.includes(line))
      throw new Error(`worker exited (${this.child.exitCode}) before saying ${line}`);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, as an orchestrator stops a pod; returns the stats it printed on the way out. */
  async terminate<T>(): Promise<{ code: number | null; stats: T }> {
    this.child.kill('SIGTERM');
    const code = await this.exited;
    const line = this.lines.find((l) => l.startsWith('STATS '));
    return { code, stats: JSON.parse(line?.slice(6) ?? 'null') as T };
  }
}

const adminUrl = realService('postgres', 'events exactly-once');
const runnable = adminUrl && hasNatsServer();
if (adminUrl && !runnable)
  process.stdout.write('\n  skipped: no nats-server on PATH; events exactly-once did not run\n\n');

describe.skipIf(!runnable)('outbox -> NATS -> idempotent consumer, with crashes', () => {
  let nats: OwnNatsServer;
  let db: { url: string; drop(): Promise<void> };
  let pool: Pool;
  let observer: NatsEventBus;
  const namespace = uniqueNamespace('x');
  const workers: Worker[] = [];

  beforeAll(async () => {
    nats = await OwnNatsServer.start();
    db = await createTestDatabase(adminUrl!);
    pool = createPool(db.url, { max: 4 });
    // DROP DATABASE ... WITH (FORCE) in afterAll may reach a client that is still closing.
    pool.on('error', () => undefined);
    await pool.query(readFileSync(OUTBOX_SQL_PATH, 'utf8'));
    await pool.query(readFileSync(PROCESSED_EVENTS_SQL_PATH, 'utf8'));
    // No unique key on purpose: an event applied twice would show up as a second row.
    await pool.query('CREATE TABLE applied (event_id uuid NOT NULL, calories integer NOT NULL)');
    observer = await NatsEventBus.connect({ url: nats.url, logger: silent, namespace });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await observer?.close();
    await pool?.end();
    await db?.drop();
    await nats?.stop();
  });

  let expectedSum = 0;
  let written = 0;
  /** Writes `count` events in business transactions of 250, four at a time. */
  async function produce(count: number): Promise<void> {
    const chunks = Array.from({ length: count / 250 }, () => 250);
    const writeChunk = async (size: number) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let i = 0; i < size; i++) {
          const calories = (written++ % 97) + 1;
          expectedSum += calories;
          await writeOutbox(client, workoutLogged(calories));
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    for (let i = 0; i < chunks.length; i += 4) await Promise.all(chunks.slice(i, i + 4).map(writeChunk));
  }

  const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]?.n);
  const env = { DATABASE_URL: '', NATS_URL: '', NAMESPACE: namespace };
  const start = (script: string, extra: Record<string, string> = {}) => {
    const worker = new Worker(script, { ...env, DATABASE_URL: db.url, NATS_URL: nats.url, ...extra });
    workers.push(worker);
    return worker;
  };

  it('should apply 10,000 events exactly once through relay, consumer and broker crashes', async () => {
    await produce(TOTAL / 2);

    // (a) The relay dies with a batch published but not yet marked in the outbox.
    const relay1 = start('relayWorker.ts', { HANG_AFTER: '200' });
    await relay1.said('MID');
    await relay1.kill();
    expect(await count('SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL')).toBeLessThan(
      TOTAL / 2,
    );
    const relay2 = start('relayWorker.ts');
    await relay2.said('READY');

    // (b) The consumer dies inside its transactions, with more fetched and unacknowledged.
    const consumer1 = start('consumerWorker.ts', { HANG_AFTER: '300' });
    await consumer1.said('MID');
    await consumer1.kill();
    const consumer2 = start('consumerWorker.ts');
    await consumer2.said('READY');

    // (c) The broker dies (SIGKILL) while both run, and comes back on the same port and store.
    await waitFor(
      async () => (await count('SELECT count(*) AS n FROM applied')) >= 1_000,
      60_000,
      'progress',
    );
    const beforeRestart = await count('SELECT count(*) AS n FROM applied');
    await nats.kill();
    // /ready follows the connection: false while the broker is away, true once reconnected.
    await waitFor(() => !observer.ready(), 15_000, 'bus not ready');
    await nats.launch();
    await waitFor(() => observer.ready(), 15_000, 'bus ready again');
    await produce(TOTAL / 2);

    await waitFor(
      async () => (await count('SELECT count(*) AS n FROM applied')) >= TOTAL,
      90_000,
      'all applied',
    );
    const relayExit = await relay2.terminate<OutboxRelayStats>();
    const consumerExit = await consumer2.terminate<ConsumerMetrics>();
    expect(relayExit.code).toBe(0);
    expect(consumerExit.code).toBe(0);
    // The restarted relay re-published what the killed one had sent; JetStream dropped those.
    expect(relayExit.stats.duplicates).toBeGreaterThan(0);
    // The killed consumer had committed part of the stream: the restarted one did not apply it again.
    expect(consumerExit.stats.processed).toBeLessThan(TOTAL);
    expect(consumerExit.stats.deadLettered).toBe(0);
    if (process.env.EVENTS_TEST_VERBOSE) {
      console.log({ beforeRestart, relay: relayExit.stats, consumer: consumerExit.stats });
    }

    // Nothing is left to deliver, so nothing can still be applied after the counts below.
    await waitFor(async () => {
      const state = await observer.consumerState('totals');
      return state !== null && state.pending === 0 && state.ackPending === 0;
    });
    expect(await observer.deadLetters('totals')).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')).toBe(0);
    const { rows } = await pool.query<{ n: number; distinct: number; sum: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct, sum(calories)::int AS sum FROM applied',
    );
    expect(rows[0]).toEqual({ n: TOTAL, distinct: TOTAL, sum: expectedSum });
    expect(await count('SELECT count(*) AS n FROM processed_events')).toBe(TOTAL);
    const outboxIds = await count('SELECT count(*) AS n FROM outbox o JOIN applied a ON a.event_id = o.id');
    expect(outboxIds).toBe(TOTAL);
  }, 180_000);
});
