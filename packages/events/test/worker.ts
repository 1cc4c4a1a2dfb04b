import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPool, type Pool } from '@fitness/pg-kit';
import { createTestDatabase, OwnNatsServer } from '@fitness/testing';
import { expect } from 'vitest';
import { NatsEventBus, PROCESSED_EVENTS_SQL_PATH } from '../src/index.js';
import { silent, uniqueNamespace, waitFor } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A relay or consumer in its own process, so it can be SIGKILLed like a crashed pod. */
export class Worker {
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

/**
 * What the exactly-once tests stand on: a NATS server of their own, the consumer's
 * database (processed_events and `applied`, which has no unique key on purpose: an
 * event applied twice would show up as a second row), an observer on the bus, and
 * the workers they start, killed at the end.
 */
export class ExactlyOnceRig {
  private readonly workers: Worker[] = [];

  private constructor(
    readonly nats: OwnNatsServer,
    readonly db: { url: string; drop(): Promise<void> },
    readonly pool: Pool,
    readonly observer: NatsEventBus,
    readonly namespace: string,
  ) {}

  static async open(adminUrl: string, label: string): Promise<ExactlyOnceRig> {
    const nats = await OwnNatsServer.start();
    const db = await createTestDatabase(adminUrl);
    const pool = createPool(db.url, { max: 4 });
    // DROP DATABASE ... WITH (FORCE) in close() may reach a client that is still closing.
    pool.on('error', () => undefined);
    await pool.query(readFileSync(PROCESSED_EVENTS_SQL_PATH, 'utf8'));
    await pool.query('CREATE TABLE applied (event_id uuid NOT NULL, calories integer NOT NULL)');
    const namespace = uniqueNamespace(label);
    const observer = await NatsEventBus.connect({ url: nats.url, logger: silent, namespace });
    return new ExactlyOnceRig(nats, db, pool, observer, namespace);
  }

  count = async (sql: string) => Number((await this.pool.query<{ n: string }>(sql)).rows[0]?.n);

  /** A relay or consumer fixture on this rig's database and bus. */
  start(script: string, env: Record<string, string> = {}): Worker {
    const worker = new Worker(script, {
      DATABASE_URL: this.db.url,
      NATS_URL: this.nats.url,
      NAMESPACE: this.namespace,
      ...env,
    });
    this.workers.push(worker);
    return worker;
  }

  async waitApplied(total: number, timeoutMs: number): Promise<void> {
    await waitFor(
      async () => (await this.count('SELECT count(*) AS n FROM applied')) >= total,
      timeoutMs,
      'all applied',
    );
  }

  /** Once nothing is left to deliver: every event applied once, with the right content. */
  async expectAppliedOnce(total: number, expectedSum: number): Promise<void> {
    await waitFor(async () => {
      const state = await this.observer.consumerState('totals');
      return state !== null && state.pending === 0 && state.ackPending === 0;
    });
    expect(await this.observer.deadLetters('totals')).toEqual([]);
    const { rows } = await this.pool.query<{ n: number; distinct: number; sum: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct, sum(calories)::int AS sum FROM applied',
    );
    expect(rows[0]).toEqual({ n: total, distinct: total, sum: expectedSum });
    expect(await this.count('SELECT count(*) AS n FROM processed_events')).toBe(total);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
    await this.observer.close();
    await this.pool.end();
    await this.db.drop();
    await this.nats.stop();
  }
}
