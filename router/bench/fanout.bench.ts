/**
 * Fan-out benchmark (not a test): N subscribers of one board through the real router,
 * the board changing 4 times a second. Prints, per scenario: delivered messages/s,
 * publish-to-deliver latency p50/p99, router CPU and RSS per subscriber, and the cost
 * of no sharing relative to sharing, all measured in this one run.
 *
 *   pnpm --filter @fitness/router bench            # 1,000 shared, 1,000 unshared, 10,000 shared
 *   BENCH_SUBSCRIBERS=2000 BENCH_SECONDS=20 ...    # other sizes
 *
 * Everything runs on this machine: the subgraphs in one child process, the router in
 * another, the WebSocket clients here.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '@fitness/tooling';
import WebSocket from 'ws';
import { writeStubSupergraph } from '../test/subscriptionStubs.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const EPOCH = Date.now();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SUBS_PER_CONNECTION = 100;
const QUERY =
  'subscription { scoreboard(board: "bench") { board version entries { rank score player { id name } } } }';
const CLK_TCK = 100;

interface Scenario {
  subscribers: number;
  sharing: boolean;
}

const scenarios: Scenario[] = process.env.BENCH_SUBSCRIBERS
  ? [
      { subscribers: Number(process.env.BENCH_SUBSCRIBERS), sharing: true },
      { subscribers: Number(process.env.BENCH_SUBSCRIBERS), sharing: false },
    ]
  : [
      { subscribers: 1_000, sharing: true },
      { subscribers: 1_000, sharing: false },
      { subscribers: 10_000, sharing: true },
    ];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const firstLine = await new Promise<string>((resolveLine, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('{')) resolveLine(line);
    });
    child.once('exit', (code) => reject(new Error(`process exited with ${code}`)));
  });
  return { child, firstLine };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready`);
}

interface LoadClient {
  sockets: WebSocket[];
  latencies: number[];
  delivered: number;
  lastVersion: Int32Array;
  recording: boolean;
}

async function connectSubscribers(wsUrl: string, count: number): Promise<LoadClient> {
  const load: LoadClient = {
    sockets: [],
    latencies: [],
    delivered: 0,
    lastVersion: new Int32Array(count).fill(-1),
    recording: false,
  };
  const versionPattern = /"version":(\d+)/;
  const connections = Math.ceil(count / SUBS_PER_CONNECTION);
  let firstResults = 0;
  for (let c = 0; c < connections; c += 1) {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    load.sockets.push(ws);
    await new Promise<void>((ok, fail) => {
      ws.once('open', () => ok());
      ws.once('error', fail);
    });
    ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    ws.on('message', (raw: Buffer) => {
      const text = raw.toString();
      if (text.startsWith('{"type":"connection_ack"')) {
        const from = c * SUBS_PER_CONNECTION;
        for (let i = from; i < Math.min(count, from + SUBS_PER_CONNECTION); i += 1) {
          ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: QUERY } }));
        }
        return;
      }
      const match = versionPattern.exec(text);
      if (!match) return;
      const id = Number(text.slice(7, text.indexOf('"', 7)));
      const version = Number(match[1]);
      if (load.lastVersion[id] === -1) firstResults += 1;
      load.lastVersion[id] = version;
      if (load.recording) {
        load.delivered += 1;
        load.latencies.push(Date.now() - EPOCH - version);
      }
    });
  }
  const deadline = Date.now() + 120_000;
  while (firstResults < count) {
    if (Date.now() > deadline)
      throw new Error(`only ${firstResults} of ${count} subscribers got a first result`);
    await sleep(50);
  }
  return load;
}

async function runScenario(
  scenario: Scenario,
  stubUrls: { live: string; players: string },
  dir: string,
  control: (command: 'pause' | 'resume') => void,
) {
  const supergraphPath = writeStubSupergraph(dir, stubUrls);
  const port = await freePort();
  const router = spawn(process.execPath, ['--import', 'tsx', 'router/src/index.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      SUPERGRAPH_PATH: supergraphPath,
      JWT_SECRET: 'fan-out-benchmark-secret-long-enough-0001',
      LOG_LEVEL: 'warn',
      MAX_SUBSCRIPTIONS_PER_CONNECTION: String(SUBS_PER_CONNECTION),
      SUBSCRIPTION_SHARING: String(scenario.sharing),
      APOLLO_TELEMETRY_DISABLED: 'true',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady(`http://127.0.0.1:${port}/ready`);
    const pid = router.pid!;
    const rssBefore = rssBytes(pid);
    const setupStarted = Date.now();
    const load = await connectSubscribers(`ws://127.0.0.1:${port}/graphql`, scenario.subscribers);
    const setupMs = Date.now() - setupStarted;
    await sleep(2_000); // warm-up
    const ticksBefore = cpuTicks(pid);
    const started = Date.now();
    load.recording = true;
    await sleep(SECONDS * 1000);
    load.recording = false;
    const elapsed = (Date.now() - started) / 1000;
    const cpuSeconds = (cpuTicks(pid) - ticksBefore) / CLK_TCK;
    const rssAfter = rssBytes(pid);
    // Everyone must end on the latest snapshot: stop publishing, let the last one land.
    control('pause');
    await sleep(2_000);
    const newest = load.lastVersion.reduce((a, b) => Math.max(a, b), -1);
    const current = load.lastVersion.filter((v) => v === newest).length;
    control('resume');
    const sorted = load.latencies.sort((a, b) => a - b);
    for (const ws of load.sockets) ws.terminate();
    return {
      ...scenario,
      setupMs,
      messagesPerSec: load.delivered / elapsed,
      expectedPerSec: scenario.subscribers * 4,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      cpuPercent: (cpuSeconds / elapsed) * 100,
      cpuMsPerSubscriberSecond: (cpuSeconds * 1000) / elapsed / scenario.subscribers,
      cpuUsPerMessage: load.delivered ? (cpuSeconds * 1_000_000) / load.delivered : Number.NaN,
      rssPerSubscriberKb: (rssAfter - rssBefore) / 1024 / scenario.subscribers,
      currentAtEnd: current,
    };
  } finally {
    router.kill('SIGTERM');
    await new Promise((r) => router.once('exit', r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-'));
const stubs = await startProcess(['router/bench/stubProcess.ts'], {
  BENCH_EPOCH: String(EPOCH),
  BENCH_RATE: '4',
});
const stubUrls = JSON.parse(stubs.firstLine) as { live: string; players: string };
const results: Awaited<ReturnType<typeof runScenario>>[] = [];
try {
  for (const scenario of scenarios) {
    process.stdout.write(
      `running ${scenario.subscribers} subscribers, sharing ${scenario.sharing ? 'on' : 'off'}...\n`,
    );
    results.push(
      await runScenario(scenario, stubUrls, dir, (command) => stubs.child.stdin?.write(`${command}\n`)),
    );
  }
} finally {
  stubs.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

const row = (r: (typeof results)[number]) =>
  [
    String(r.subscribers).padStart(6),
    (r.sharing ? 'on' : 'off').padEnd(7),
    r.messagesPerSec.toFixed(0).padStart(8),
    r.expectedPerSec.toFixed(0).padStart(8),
    `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)}`.padStart(12),
    r.cpuPercent.toFixed(1).padStart(7),
    r.cpuMsPerSubscriberSecond.toFixed(3).padStart(10),
    r.cpuUsPerMessage.toFixed(1).padStart(10),
    r.rssPerSubscriberKb.toFixed(1).padStart(9),
    `${r.currentAtEnd}/${r.subscribers}`.padStart(13),
    String(r.setupMs).padStart(8),
  ].join('  ');
process.stdout.write(
  `\nfan-out through the router, board updated 4/s, ${SECONDS} s window, ${SUBS_PER_CONNECTION} subscriptions per connection\n`,
);
process.stdout.write(
  ' subs  sharing   msgs/s  target/s  p50/p99 ms   cpu %  cpu ms/sub/s  cpu us/msg  rss KB/sub  latest at end  setup ms\n',
);
for (const r of results) process.stdout.write(`${row(r)}\n`);
const on = results.find((r) => r.sharing && r.subscribers === results.find((x) => !x.sharing)?.subscribers);
const off = results.find((r) => !r.sharing);
if (on && off) {
  const perSubscriber = off.cpuMsPerSubscriberSecond / on.cpuMsPerSubscriberSecond;
  const perMessage = off.cpuUsPerMessage / on.cpuUsPerMessage;
  const saturated = off.messagesPerSec < off.expectedPerSec * 0.95;
  process.stdout.write(
    `\nwithout sharing / with sharing at ${on.subscribers} subscribers: CPU per delivered message ${perMessage.toFixed(1)}x, ` +
      `CPU per subscriber ${perSubscriber.toFixed(1)}x\n`,
  );
  if (saturated) {
    process.stdout.write(
      `(without sharing the router saturated and delivered ${((off.messagesPerSec / off.expectedPerSec) * 100).toFixed(0)}% ` +
        'of the snapshots, so CPU per subscriber understates the difference; per delivered message is the fair measure)\n',
    );
  }
}
process.exit(0);
