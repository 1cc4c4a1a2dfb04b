/**
 * Gateway benchmark (not a test): the public gateways-benchmark supergraph (accounts,
 * inventory, products, reviews) on stub subgraphs, its one large nested query, and
 * each gateway in turn under the same load: plain @apollo/gateway + @apollo/server
 * (the baseline), this project's router with and without subgraph dedup, and Hive
 * Gateway's runtime with and without its own. Each gateway runs alone on core 1, the
 * stubs and wrk on core 0. Every response must be the expected 87,599-byte answer, or
 * the run fails. Prints per gateway the medians over rounds, and each ratio to the
 * baseline of the same round.
 *
 *   pnpm --filter @fitness/router bench:gateway                  # 4 rounds of 10 s per gateway
 *   pnpm --filter @fitness/router bench:gateway --dashboard      # then the Dashboard query on a full stack
 *   pnpm --filter @fitness/router bench:gateway --dashboard-only
 *   BENCH_ROUNDS, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS,
 *   BENCH_DASHBOARD_CONNECTIONS, BENCH_DASHBOARD_USERS, BENCH_DASHBOARD_WARMUP_SECONDS
 *   BENCH_GATEWAYS=apollo-gateway,router-dedup-off,router,hive-dedup-off,hive   # a subset
 *
 * Each run's CPU, requests and subgraph fetches are counted over whole seconds of steady
 * load inside it (see steadySeconds), so neither the ramp-up nor the requests still in
 * flight when wrk stops weigh on the per-request figures.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { isDeepStrictEqual } from 'node:util';
import { freePort, type Stack, SUBGRAPHS, startStack } from '@fitness/tooling';
import { SUBGRAPH_NAMES, writeBenchSupergraph } from './benchSupergraph.js';
import {
  coreBusyPercent,
  machineLoad,
  median,
  type Reading,
  rssMb,
  startSecondReadings,
  waitIdle,
} from './proc.js';
import { EXPECTED_BYTES, expectedResponse, QUERY } from './query.js';
import { badSampleText, runWrk, type WrkResult, type WrkTarget } from './wrk.js';

const repoRoot = resolve(import.meta.dirname, '../../..');
const flags = new Set(process.argv.slice(2));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DASHBOARD_CONNECTIONS = Number(process.env.BENCH_DASHBOARD_CONNECTIONS ?? 20);
const DASHBOARD_USERS = Number(process.env.BENCH_DASHBOARD_USERS ?? 10);
// Five processes and an embedded database take longer than one gateway to settle.
const DASHBOARD_WARMUP_SECONDS = Number(process.env.BENCH_DASHBOARD_WARMUP_SECONDS ?? 20);
// The router of main at the end of 1 Dec 2026, before its own executor: the Dashboard's
// second baseline, run from a worktree of that revision beside the code under test.
const DASHBOARD_BASELINE = process.env.BENCH_DASHBOARD_BASELINE ?? 'c90a2c1';
const GATEWAY_CPU = '1';
const LOAD_CPU = '0';

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const strongSecret = () => randomBytes(32).toString('hex');

class BenchFailure extends Error {}

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>();
/** What the run leaves behind outside its temporary directory (a baseline worktree). */
const cleanups: (() => void)[] = [];

/** A node process running a TypeScript entry through tsx, on the given cores. */
function launch(
  entry: string,
  cpus: string,
  env: Record<string, string | undefined>,
  quiet = true,
): ChildProcess {
  const child = spawn('taskset', ['-c', cpus, process.execPath, '--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The first JSON line a child prints (its URL); the rest of its output is drained. */
function firstJsonLine(child: ChildProcess): Promise<{ url: string }> {
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolveLine, reject) => {
    let found = false;
    lines.on('line', (line) => {
      if (!found && line.startsWith('{"url"')) {
        found = true;
        resolveLine(JSON.parse(line) as { url: string });
      }
    });
    child.once('exit', (code) => reject(new Error(`process exited with ${code} before it was listening`)));
  });
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready`);
}

async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((done) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

// ---------------------------------------------------------------- gateways

interface Gateway {
  key: string;
  label: string;
  start(supergraphPath: string, stubsUrl: string): Promise<{ url: string; child: ChildProcess }>;
}

const BASELINE = 'apollo-gateway';

/** router/src/index.ts as production runs it, pointed at the stubs. */
async function startRouter(supergraphPath: string, stubsUrl: string, extraEnv: Record<string, string>) {
  const port = await freePort();
  const child = launch(
    'router/src/index.ts',
    GATEWAY_CPU,
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      SUPERGRAPH_PATH: supergraphPath,
      ...Object.fromEntries(
        SUBGRAPH_NAMES.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, `${stubsUrl}/${name}`]),
      ),
      JWT_SECRET: strongSecret(),
      ROUTER_SUBGRAPH_SECRET: strongSecret(),
      LOG_LEVEL: 'warn',
      APOLLO_TELEMETRY_DISABLED: 'true',
      // Demand control still estimates every request; only its limit is lifted, as
      // this query's lists (7 levels deep, 10 assumed per list) estimate far over 2,000.
      MAX_OPERATION_COST: '1000000000',
      ...extraEnv,
    },
    false,
  );
  await waitReady(`http://127.0.0.1:${port}/ready`, child);
  return { url: `http://127.0.0.1:${port}/graphql`, child };
}

async function startHive(supergraphPath: string, dedup: 'true' | 'false') {
  const child = launch('router/bench/gateway/hiveGateway.ts', GATEWAY_CPU, {
    NODE_ENV: 'production',
    SUPERGRAPH_PATH: supergraphPath,
    PORT: '0',
    SUBGRAPH_DEDUP: dedup,
  });
  return { url: (await firstJsonLine(child)).url, child };
}

const GATEWAYS: Gateway[] = [
  {
    key: BASELINE,
    label: 'plain @apollo/gateway 2.14.4 + @apollo/server 5',
    async start(supergraphPath) {
      const child = launch('router/bench/gateway/apolloGateway.ts', GATEWAY_CPU, {
        NODE_ENV: 'production',
        SUPERGRAPH_PATH: supergraphPath,
        PORT: '0',
      });
      return { url: (await firstJsonLine(child)).url, child };
    },
  },
  {
    key: 'router-dedup-off',
    label: 'this router, SUBGRAPH_DEDUP=false',
    start: (supergraphPath, stubsUrl) => startRouter(supergraphPath, stubsUrl, { SUBGRAPH_DEDUP: 'false' }),
  },
  {
    key: 'router',
    label: 'this router, defaults (subgraph dedup on)',
    start: (supergraphPath, stubsUrl) => startRouter(supergraphPath, stubsUrl, {}),
  },
  {
    key: 'hive-dedup-off',
    label: 'Hive Gateway runtime 2.12.1, subgraph dedup off',
    start: (supergraphPath) => startHive(supergraphPath, 'false'),
  },
  {
    key: 'hive',
    label: 'Hive Gateway runtime 2.12.1, defaults (subgraph dedup on)',
    start: (supergraphPath) => startHive(supergraphPath, 'true'),
  },
];

// ---------------------------------------------------------------- measurement

interface Sample {
  wrk: WrkResult;
  /** Right responses in the measured seconds. */
  requests: number;
  rps: number;
  cpuMsPerRequest: number;
  requestsPerCpuSecond: number;
  rssMb: number;
  fetchesPerRequest: number;
  gatewayCpuPercent: number;
  stubsCpuPercent: number;
  corePercent: number[];
}

interface Running {
  gateway: Gateway;
  url: string;
  pid: number;
  /** The gateway's own bytes of the expected answer: wrk compares every response to them. */
  answer: string;
  fetchesPerQuery: Record<string, number>;
}

interface StubStats {
  counts: Record<string, number>;
  perSecond: Record<string, number>;
}

async function stubStats(stubsUrl: string): Promise<StubStats> {
  return (await (await fetch(`${stubsUrl}/stats`)).json()) as StubStats;
}
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** One request, compared in full with the expected response; counts the subgraph fetches it made. */
async function validate(gateway: Gateway, url: string, stubsUrl: string, expected: string) {
  const before = (await stubStats(stubsUrl)).counts;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY }),
  });
  const text = await res.text();
  const after = (await stubStats(stubsUrl)).counts;
  if (res.status !== 200) {
    throw new BenchFailure(
      `${gateway.key}: HTTP ${res.status} on the validation request: ${text.slice(0, 600)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BenchFailure(`${gateway.key}: the answer is not JSON: ${text.slice(0, 600)}`);
  }
  if (!isDeepStrictEqual(parsed, JSON.parse(expected))) {
    let at = 0;
    while (at < text.length && text[at] === expected[at]) at += 1;
    throw new BenchFailure(
      `${gateway.key}: wrong answer (${Buffer.byteLength(text)} bytes, expected ${Buffer.byteLength(expected)}); ` +
        `first difference at character ${at}:\n  got      ${text.slice(Math.max(0, at - 80), at + 120)}\n` +
        `  expected ${expected.slice(Math.max(0, at - 80), at + 120)}`,
    );
  }
  const fetches = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, (after[n] ?? 0) - (before[n] ?? 0)]));
  // Apollo Server ends its JSON with a newline; what counts is the JSON itself.
  return { answer: text, exact: text.trimEnd() === expected, fetches };
}

/** Whole seconds left out at the start of a run, while all connections send their first requests. */
const RAMP_SECONDS = 2;

/**
 * From the reading RAMP_SECONDS after the first to the last one taken while wrk ran:
 * whole seconds of steady load, every request in them counted by wrk and the stubs.
 */
function steadySeconds(taken: Reading[], what: string) {
  const first = taken[Math.min(RAMP_SECONDS, Math.max(0, taken.length - 2))];
  const last = taken[taken.length - 1];
  if (!first || !last || last.second <= first.second) {
    throw new BenchFailure(`${what}: run too short to measure whole seconds`);
  }
  const sum = (perSecond: Record<string, number>) => {
    let n = 0;
    for (let second = first.second; second < last.second; second += 1) n += perSecond[String(second)] ?? 0;
    return n;
  };
  return { first, last, sum };
}

async function measure(
  running: Running,
  stubs: { url: string; pid: number },
  dir: string,
  name: string,
  seconds: number,
): Promise<Sample> {
  const target: WrkTarget = {
    url: running.url,
    body: JSON.stringify({ query: QUERY }),
    lanes: [{ expected: running.answer }],
  };
  const readings = startSecondReadings([running.pid, stubs.pid]);
  const wrk = await runWrk(target, { dir, name, seconds, connections: CONNECTIONS, cpus: LOAD_CPU });
  const taken = readings.stop();
  const rss = rssMb(running.pid);
  const { perSecond: fetchesPerSecond } = await stubStats(stubs.url);
  // What the gateway still works on for closed connections must not run into the next run.
  await waitIdle(running.pid);
  if (wrk.bad > 0 || wrk.socketErrors > 0 || wrk.good === 0) {
    throw new BenchFailure(
      `${running.gateway.key} (${name}): ${wrk.bad} wrong responses, ${wrk.socketErrors} socket errors, ` +
        `${wrk.good} right ones${wrk.badSample ? `; the first wrong one:\n${badSampleText(wrk.badSample)}` : ''}`,
    );
  }
  const { first, last, sum } = steadySeconds(taken, `${running.gateway.key} (${name})`);
  const requests = sum(wrk.perSecond);
  const fetches = sum(fetchesPerSecond);
  const span = last.second - first.second;
  const wall = (last.at - first.at) / 1000;
  const cpu = last.cpu[0]! - first.cpu[0]!;
  const stubsCpu = last.cpu[1]! - first.cpu[1]!;
  if (requests === 0) {
    throw new BenchFailure(
      `${running.gateway.key} (${name}): no request completed in ${span} s of steady load`,
    );
  }
  return {
    wrk,
    requests,
    rps: requests / span,
    cpuMsPerRequest: (cpu * 1000) / requests,
    requestsPerCpuSecond: requests / cpu,
    rssMb: rss,
    fetchesPerRequest: fetches / requests,
    gatewayCpuPercent: (cpu / wall) * 100,
    stubsCpuPercent: (stubsCpu / wall) * 100,
    corePercent: coreBusyPercent(first.cores, last.cores),
  };
}

// ---------------------------------------------------------------- report

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '-');

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

function report(running: Running[], samples: Map<string, Sample[]>) {
  const base = samples.get(BASELINE);
  const ratio = (key: string, pick: (s: Sample) => number) => {
    const mine = samples.get(key)!;
    if (!base) return Number.NaN;
    return median(mine.map((s, round) => pick(s) / pick(base[round]!)));
  };
  const m = (key: string, pick: (s: Sample) => number) => median(samples.get(key)!.map(pick));
  out();
  out(
    `gateways-benchmark query (${EXPECTED_BYTES.toLocaleString('en')}-byte answer), ${CONNECTIONS} connections, ` +
      `gateway alone on core ${GATEWAY_CPU}, stubs and wrk on core ${LOAD_CPU}; medians of ${ROUNDS} rounds of ${SECONDS} s, ` +
      'ratios per round to the baseline of the same round',
  );
  out();
  for (const l of table(
    [
      'gateway',
      'RPS',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'CPU ms/req',
      'req/CPU-s',
      'RSS MB',
      'fetches/req',
      'x RPS',
      'x req/CPU-s',
      'x p99',
      'x RSS',
    ],
    running.map(({ gateway: { key, label } }) => [
      label,
      f(m(key, (s) => s.rps)),
      f(
        m(key, (s) => s.wrk.p50Ms),
        0,
      ),
      f(
        m(key, (s) => s.wrk.p95Ms),
        0,
      ),
      f(
        m(key, (s) => s.wrk.p99Ms),
        0,
      ),
      f(m(key, (s) => s.cpuMsPerRequest)),
      f(m(key, (s) => s.requestsPerCpuSecond)),
      f(
        m(key, (s) => s.rssMb),
        0,
      ),
      f(m(key, (s) => s.fetchesPerRequest)),
      x(ratio(key, (s) => s.rps)),
      x(ratio(key, (s) => s.requestsPerCpuSecond)),
      x(ratio(key, (s) => s.wrk.p99Ms)),
      x(ratio(key, (s) => s.rssMb)),
    ]),
  ))
    out(l);
  out();
  out('conditions (medians): how much of its core each gateway used, how busy each core was, the stubs');
  out();
  for (const l of table(
    [
      'gateway',
      'gateway CPU %',
      `core ${GATEWAY_CPU} busy %`,
      `core ${LOAD_CPU} busy %`,
      'stubs CPU %',
      'requests',
    ],
    running.map(({ gateway: { key, label } }) => [
      label,
      f(
        m(key, (s) => s.gatewayCpuPercent),
        0,
      ),
      f(
        m(key, (s) => s.corePercent[Number(GATEWAY_CPU)]!),
        0,
      ),
      f(
        m(key, (s) => s.corePercent[Number(LOAD_CPU)]!),
        0,
      ),
      f(
        m(key, (s) => s.stubsCpuPercent),
        0,
      ),
      String(samples.get(key)!.reduce((a, s) => a + s.requests, 0)),
    ]),
  ))
    out(l);
  out();
  for (const r of running) {
    out(
      `${r.gateway.key}: subgraph fetches for one query: ${SUBGRAPH_NAMES.map((n) => `${n} ${r.fetchesPerQuery[n]}`).join(', ')} ` +
        `(${total(r.fetchesPerQuery)} in all)`,
    );
  }
}

// ---------------------------------------------------------------- the gateway benchmark

async function gatewayBenchmark(dir: string): Promise<void> {
  const expected = expectedResponse();
  if (Buffer.byteLength(expected) !== EXPECTED_BYTES) {
    throw new BenchFailure(
      `the expected answer is ${Buffer.byteLength(expected)} bytes, not ${EXPECTED_BYTES}`,
    );
  }
  const wanted = process.env.BENCH_GATEWAYS?.split(',').map((s) => s.trim());
  const gateways = GATEWAYS.filter((g) => !wanted || wanted.includes(g.key));
  if (gateways.length === 0)
    throw new BenchFailure(`no gateway among ${GATEWAYS.map((g) => g.key).join(', ')}`);

  const stubsChild = launch('router/bench/gateway/stubs.ts', LOAD_CPU, { NODE_ENV: 'production' });
  const stubs = { url: (await firstJsonLine(stubsChild)).url, pid: stubsChild.pid! };
  const supergraphPath = writeBenchSupergraph(dir, stubs.url);

  const running: Running[] = [];
  for (const gateway of gateways) {
    out(`starting ${gateway.label}...`);
    const { url, child } = await gateway.start(supergraphPath, stubs.url);
    const first = await validate(gateway, url, stubs.url, expected);
    const r: Running = {
      gateway,
      url,
      pid: child.pid!,
      answer: first.answer,
      fetchesPerQuery: first.fetches,
    };
    // A second request, after planning is cached, must be the same bytes.
    const second = await validate(gateway, url, stubs.url, expected);
    if (second.answer !== first.answer)
      throw new BenchFailure(`${gateway.key}: two requests, two different answers`);
    out(
      `  ${url}: answer checked (${first.exact ? 'byte for byte the expected JSON' : 'the expected JSON, other key order or spacing'}), ` +
        `${total(first.fetches)} subgraph fetches; warming up ${WARMUP_SECONDS} s`,
    );
    await measure(r, stubs, dir, `${gateway.key}-warmup`, WARMUP_SECONDS);
    running.push(r);
  }

  const samples = new Map<string, Sample[]>(running.map((r) => [r.gateway.key, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each round starts with another gateway, so that none always runs right after the same one.
    const order = running.map((_, i) => running[(i + round) % running.length]!);
    for (const r of order) {
      const sample = await measure(r, stubs, dir, `${r.gateway.key}-round${round + 1}`, SECONDS);
      samples.get(r.gateway.key)!.push(sample);
      out(
        `round ${round + 1}/${ROUNDS} ${r.gateway.key.padEnd(16)} ${f(sample.rps).padStart(7)} RPS  ` +
          `p99 ${f(sample.wrk.p99Ms, 0).padStart(5)} ms  ${f(sample.cpuMsPerRequest).padStart(6)} CPU ms/req  ` +
          `gateway CPU ${f(sample.gatewayCpuPercent, 0)} %  cores ${sample.corePercent.map((c) => f(c, 0)).join('/')} %  ` +
          `${sample.wrk.good} right (${sample.requests} measured), ${sample.wrk.bad} wrong`,
      );
    }
  }
  report(running, samples);
  await stopAll();
}

// ---------------------------------------------------------------- the Dashboard on a full stack

async function graphql<T>(url: string, query: string, variables: object, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (res.status !== 200 || body.errors) {
    throw new BenchFailure(`HTTP ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 600)}`);
  }
  return body.data!;
}

async function seedDashboardUser(url: string) {
  const handle = `bench_${randomBytes(3).toString('hex')}`;
  const { signUp } = await graphql<{ signUp: { token: string } }>(
    url,
    'mutation ($input: SignUpInput!) { signUp(input: $input) { token } }',
    {
      input: {
        email: `${handle}@example.com`,
        password: 'benchmark password',
        handle,
        displayName: 'Bench User',
        region: 'EU',
      },
    },
  );
  const { exercises } = await graphql<{ exercises: { id: string }[] }>(url, '{ exercises { id } }', {});
  for (let day = 1; day <= 20; day += 1) {
    await graphql(
      url,
      'mutation ($input: LogWorkoutInput!) { logWorkout(input: $input) { id } }',
      {
        input: {
          id: randomUUID(),
          sport: 'STRENGTH',
          title: `Day ${day}`,
          startedAt: new Date(Date.now() - day * 86_400_000).toISOString(),
          durationSec: 3600,
          sets: [0, 1, 2].map((i) => ({
            exerciseId: exercises[(day + i) % exercises.length]!.id,
            reps: 8 + i,
            weightKg: 40 + day,
          })),
        },
      },
      signUp.token,
    );
  }
  return { handle, token: signUp.token };
}

/**
 * A worktree of `revision` in `dir` with its dependencies installed (from pnpm's store
 * when it has them), removed again when the benchmark ends.
 */
function baselineCheckout(revision: string, dir: string): string {
  const path = join(dir, `baseline-${revision}`);
  execFileSync('git', ['-C', repoRoot, 'worktree', 'add', '--detach', '--force', path, revision], {
    stdio: 'ignore',
  });
  cleanups.push(() =>
    execFileSync('git', ['-C', repoRoot, 'worktree', 'remove', '--force', path], { stdio: 'ignore' }),
  );
  execFileSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], { cwd: path, stdio: 'ignore' });
  return path;
}

async function dashboardBenchmark(dir: string): Promise<void> {
  // The stack runs as `pnpm start` runs it, on both cores, with embedded stores in memory.
  execFileSync('taskset', ['-a', '-p', '-c', '0,1', String(process.pid)], { stdio: 'ignore' });
  out('starting the stack (four subgraphs and the router, embedded stores)...');
  const stack: Stack = await startStack({
    ports: 'free',
    output: 'capture',
    env: {
      LOG_LEVEL: 'warn',
      JWT_SECRET: strongSecret(),
      APOLLO_TELEMETRY_DISABLED: 'true',
      MONGODB_URL: undefined,
      REDIS_URL: undefined,
      WORKOUTS_DATABASE_URL: undefined,
      PAYMENTS_DATABASE_URL: undefined,
    },
    serviceEnv: {
      users: { USERS_DATA_DIR: 'memory://' },
      workouts: { WORKOUTS_DATA_DIR: 'memory://' },
      payments: { PAYMENTS_DATA_DIR: 'memory://' },
    },
  });
  try {
    const url = stack.routerUrl;
    const query = readFileSync(join(repoRoot, 'schema/operations/dashboard.graphql'), 'utf8');
    const body = JSON.stringify({ query });
    // Users of their own, one per wrk thread: identical requests with one token would
    // share their subgraph fetches (SUBGRAPH_DEDUP) as no real traffic does.
    const lanes: WrkTarget['lanes'] = [];
    for (let i = 0; i < DASHBOARD_USERS; i += 1) {
      const { handle, token } = await seedDashboardUser(url);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      const answer = await res.text();
      const parsed = JSON.parse(answer) as {
        data?: { me?: { handle: string; workouts: { edges: unknown[] } }; plans?: unknown[] };
        errors?: unknown;
      };
      if (
        res.status !== 200 ||
        parsed.errors ||
        parsed.data?.me?.handle !== handle ||
        parsed.data.me.workouts.edges.length !== 5 ||
        !parsed.data.plans?.length
      ) {
        throw new BenchFailure(`Dashboard: unexpected answer for ${handle}: ${answer.slice(0, 600)}`);
      }
      lanes.push({ headers: { Authorization: `Bearer ${token}` }, expected: answer });
    }
    out(
      `  ${DASHBOARD_USERS} users with 20 workouts each, their Dashboard answers checked ` +
        `(${Buffer.byteLength(lanes[0]!.expected)} bytes for the first); warming up ${DASHBOARD_WARMUP_SECONDS} s`,
    );
    // The baseline in the same run: a second router on the same subgraphs, with
    // @apollo/gateway's own executor (ROUTER_EXECUTOR=gateway); the windows alternate.
    const replica = await stack.addReplica('router', { ROUTER_EXECUTOR: 'gateway' });
    const replicaUrl = `${replica.url}/graphql`;
    for (const lane of lanes) {
      const res = await fetch(replicaUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: lane.headers!.Authorization! },
        body,
      });
      const answer = await res.text();
      if (answer !== lane.expected) {
        throw new BenchFailure(`Dashboard: the two executors answered differently:\n${answer.slice(0, 600)}`);
      }
    }
    const routers = [
      {
        key: 'router',
        label: 'this router (ROUTER_EXECUTOR=router)',
        url,
        pid: stack.services.router.process.pid!,
      },
      {
        key: 'gateway',
        label: "the same router on @apollo/gateway's executor",
        url: replicaUrl,
        pid: replica.process.pid!,
      },
    ];
    if (DASHBOARD_BASELINE !== 'none') {
      // The same supergraph, so that both plan alike; its answers must be the same too.
      out(`  starting the router of ${DASHBOARD_BASELINE} from a worktree of its own...`);
      const old = await stack.addReplica(
        'router',
        { SUPERGRAPH_PATH: join(repoRoot, 'schema/supergraph.graphql') },
        { checkout: baselineCheckout(DASHBOARD_BASELINE, dir) },
      );
      const oldUrl = `${old.url}/graphql`;
      for (const lane of lanes) {
        const answer = await (
          await fetch(oldUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: lane.headers!.Authorization! },
            body,
          })
        ).text();
        if (answer !== lane.expected) {
          throw new BenchFailure(
            `Dashboard: the router of ${DASHBOARD_BASELINE} answered differently:\n${answer.slice(0, 600)}`,
          );
        }
      }
      routers.push({
        key: 'baseline',
        label: `the router of ${DASHBOARD_BASELINE}`,
        url: oldUrl,
        pid: old.process.pid!,
      });
    }
    const names = ['router', ...SUBGRAPHS] as const;
    interface Window {
      wrk: WrkResult;
      rps: number;
      cpuMs: Record<string, number>;
      rss: number;
      cores: number[];
    }
    const windows = new Map<string, Window[]>(routers.map((r) => [r.key, []]));
    for (let w = 0; w <= ROUNDS; w += 1) {
      // Each window starts with the next router.
      const order = [...routers.slice(w % routers.length), ...routers.slice(0, w % routers.length)];
      for (const r of order) {
        const pids = [r.pid, ...SUBGRAPHS.map((n) => stack.services[n].process.pid!)];
        const readings = startSecondReadings(pids);
        const wrk = await runWrk(
          { url: r.url, body, lanes },
          {
            dir,
            name: `dashboard-${r.key}-${w}`,
            seconds: w === 0 ? DASHBOARD_WARMUP_SECONDS : SECONDS,
            connections: DASHBOARD_CONNECTIONS,
          },
        );
        const taken = readings.stop();
        const rss = rssMb(r.pid);
        await waitIdle(r.pid);
        if (wrk.bad > 0 || wrk.socketErrors > 0 || wrk.good === 0) {
          throw new BenchFailure(
            `Dashboard (${r.key}): ${wrk.bad} wrong responses, ${wrk.socketErrors} socket errors, ${wrk.good} right ones` +
              `${wrk.badSample ? `; the first wrong one:\n${badSampleText(wrk.badSample)}` : ''}`,
          );
        }
        if (w === 0) continue;
        const { first, last, sum } = steadySeconds(taken, `Dashboard window ${w} (${r.key})`);
        const requests = sum(wrk.perSecond);
        const cpuMs = Object.fromEntries(
          names.map((n, i) => [n, ((last.cpu[i]! - first.cpu[i]!) * 1000) / requests]),
        );
        const rps = requests / (last.second - first.second);
        windows.get(r.key)!.push({ wrk, rps, cpuMs, rss, cores: coreBusyPercent(first.cores, last.cores) });
        out(
          `window ${w}/${ROUNDS} ${r.key.padEnd(8)} ${f(rps)} RPS, p99 ${f(wrk.p99Ms, 0)} ms, ` +
            `router ${f(cpuMs.router!, 2)} CPU ms/req, ${wrk.good} right, ${wrk.bad} wrong`,
        );
      }
    }
    out();
    out(
      `Dashboard (schema/operations/dashboard.graphql) through the whole stack, embedded stores, ` +
        `${DASHBOARD_USERS} users on ${DASHBOARD_CONNECTIONS} connections, ` +
        `nothing pinned (2 cores); medians of ${ROUNDS} windows of ${SECONDS} s per router, alternating; ` +
        `the ratio is per window pair, then the median`,
    );
    out();
    const ours = windows.get('router')!;
    // Per window: this router's CPU per request over each other router's.
    const ratioTo = (key: string) => {
      const other = windows.get(key);
      return other ? median(ours.map((w, i) => w.cpuMs.router! / other[i]!.cpuMs.router!)) : undefined;
    };
    const ratios = { gateway: ratioTo('gateway'), baseline: ratioTo('baseline') };
    const ratioCell = (key: string, to: keyof typeof ratios) =>
      key === to ? '1.00x' : key === 'router' && ratios[to] !== undefined ? `${f(ratios[to], 2)}x` : '';
    const rows = routers.map((r) => {
      const list = windows.get(r.key)!;
      const m = (pick: (w: Window) => number) => median(list.map(pick));
      return [
        r.label,
        f(m((w) => w.rps)),
        f(
          m((w) => w.wrk.p50Ms),
          0,
        ),
        f(
          m((w) => w.wrk.p95Ms),
          0,
        ),
        f(
          m((w) => w.wrk.p99Ms),
          0,
        ),
        ...names.map((n) =>
          f(
            m((w) => w.cpuMs[n]!),
            2,
          ),
        ),
        f(
          m((w) => w.rss),
          0,
        ),
        `${f(
          m((w) => w.cores[0]!),
          0,
        )}/${f(
          m((w) => w.cores[1]!),
          0,
        )}`,
        ratioCell(r.key, 'gateway'),
        ...(ratios.baseline !== undefined ? [ratioCell(r.key, 'baseline')] : []),
      ];
    });
    for (const l of table(
      [
        'router',
        'RPS',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        ...names.map((n) => `${n} CPU ms/req`),
        'router RSS MB',
        'cores busy %',
        "x router CPU/req (gateway's executor)",
        ...(ratios.baseline !== undefined ? [`x router CPU/req (${DASHBOARD_BASELINE})`] : []),
      ],
      rows,
    ))
      out(l);
  } finally {
    await stack.stop();
  }
}

// ---------------------------------------------------------------- main

const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
let failed = false;
process.on('SIGINT', () => {
  void stopAll().then(() => process.exit(130));
});
try {
  // This process and everything it starts without taskset share the load core.
  execFileSync('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });
  const before = machineLoad();
  const startedAt = Date.now();
  out(
    `machine: ${execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim()} cores, ${new Date().toISOString().slice(0, 10)}; ` +
      `before: ${before.vitest} vitest processes, load average ${before.loadAverage}`,
  );
  if (!flags.has('--dashboard-only')) await gatewayBenchmark(dir);
  if (flags.has('--dashboard') || flags.has('--dashboard-only')) {
    out();
    await dashboardBenchmark(dir);
  }
  const after = machineLoad();
  out();
  out(
    `after: ${after.vitest} vitest processes, load average ${after.loadAverage}; ` +
      `${((Date.now() - startedAt) / 1000).toFixed(0)} s in all`,
  );
} catch (error) {
  failed = true;
  process.stderr.write(
    `\nBENCHMARK FAILED: ${error instanceof BenchFailure ? error.message : (error as Error).stack}\n`,
  );
} finally {
  await stopAll();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
