import { readFileSync } from 'node:fs';
import { hasNatsServer, realService } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerMetrics, OUTBOX_SQL_PATH, type OutboxRelayStats, writeOutbox } from '../src/index.js';
import { waitFor, workoutLogged } from './helpers.js';
import { ExactlyOnceRig } from './worker.js';

const TOTAL = 10_000;
const adminUrl = realService('postgres', 'events exactly-once');
const runnable = adminUrl && hasNatsServer();
if (adminUrl && !runnable)
  process.stdout.write('\n  skipped: no nats-server on PATH; events exactly-once did not run\n\n');

describe.skipIf(!runnable)('outbox -> NATS -> idempotent consumer, with crashes', () => {
  let rig: ExactlyOnceRig;

  beforeAll(async () => {
    rig = await ExactlyOnceRig.open(adminUrl!, 'x');
    await rig.pool.query(readFileSync(OUTBOX_SQL_PATH, 'utf8'));
  });

  afterAll(async () => {
    await rig?.close();
  });

  let expectedSum = 0;
  let written = 0;
  /** Writes `count` events in business transactions of 250, four at a time. */
  async function produce(count: number): Promise<void> {
    const chunks = Array.from({ length: count / 250 }, () => 250);
    const writeChunk = async (size: number) => {
      const client = await rig.pool.connect();
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

  const count = (sql: string) => rig.count(sql);
  const start = (script: string, env: Record<string, string> = {}) => rig.start(script, env);

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
    await rig.nats.kill();
    // /ready follows the connection: false while the broker is away, true once reconnected.
    await waitFor(() => !rig.observer.ready(), 15_000, 'bus not ready');
    await rig.nats.launch();
    await waitFor(() => rig.observer.ready(), 15_000, 'bus ready again');
    await produce(TOTAL / 2);

    await rig.waitApplied(TOTAL, 90_000);
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
    await rig.expectAppliedOnce(TOTAL, expectedSum);
    expect(await count('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')).toBe(0);
    const outboxIds = await count('SELECT count(*) AS n FROM outbox o JOIN applied a ON a.event_id = o.id');
    expect(outboxIds).toBe(TOTAL);
  }, 180_000);
});
