// The second day of a new user, as CI can replay it: `pnpm start`, log a workout,
// Ctrl-C; start again on the same data, the workout is there, log another; kill -9
// the whole supergraph in the middle of it; start once more: everything is there and
// writes still work. Every Ctrl-C must exit 0 without pnpm's ELIFECYCLE line.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = 24_000;
const API = `http://127.0.0.1:${BASE}/graphql`;
const dataDir = mkdtempSync(join(tmpdir(), 'fitness-smoke-'));
const env = {
  ...process.env,
  ROUTER_PORT: String(BASE),
  USERS_PORT: String(BASE + 1),
  WORKOUTS_PORT: String(BASE + 2),
  PAYMENTS_PORT: String(BASE + 3),
  RECOMMENDATIONS_PORT: String(BASE + 4),
  WORKOUTS_DATA_DIR: join(dataDir, 'workouts'),
  PAYMENTS_DATA_DIR: join(dataDir, 'payments'),
  USERS_DATA_DIR: join(dataDir, 'users'),
  LOG_FORMAT: 'json',
};

function fail(message, output = '') {
  process.stderr.write(`smoke: ${message}\n${output.slice(-4_000)}\n`);
  process.exit(1);
}

function start() {
  // Its own process group, as a terminal gives it: a Ctrl-C reaches every process in it.
  const child = spawn('pnpm', ['start'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('not ready within 120 s')), 120_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = /supergraph ready in ([\d.]+) s/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pnpm start exited with ${code} before it was ready`)));
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, ready, exited, output: () => output };
}

async function gql(query, variables = {}, token) {
  const res = await fetch(API, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

async function signIn() {
  const body = await gql('mutation ($i: SignInInput!) { signIn(input: $i) { token } }', {
    i: { email: 'alex@demo.fitness.test', password: 'demo-password-1' },
  });
  if (!body.data?.signIn) fail(`sign-in failed: ${JSON.stringify(body)}`);
  return body.data.signIn.token;
}

async function logWorkout(token, id = randomUUID()) {
  const body = await gql(
    'mutation ($i: LogWorkoutInput!) { logWorkout(input: $i) { id } }',
    { i: { id, sport: 'RUN', title: 'smoke', startedAt: new Date().toISOString(), durationSec: 900 } },
    token,
  );
  if (body.data?.logWorkout?.id !== id) fail(`logWorkout failed: ${JSON.stringify(body)}`);
  return id;
}

async function myWorkoutIds(token) {
  const body = await gql('{ me { workouts(first: 100) { edges { node { id } } } } }', {}, token);
  if (!body.data?.me) fail(`reading workouts failed: ${JSON.stringify(body)}`);
  return body.data.me.workouts.edges.map((e) => e.node.id);
}

async function ctrlC(run) {
  process.kill(-run.child.pid, 'SIGINT');
  const { code } = await run.exited;
  if (code !== 0) fail(`Ctrl-C exited with ${code}`, run.output());
  if (run.output().includes('ELIFECYCLE')) fail('Ctrl-C printed ELIFECYCLE', run.output());
}

try {
  const first = start();
  const cold = await first.ready;
  const kept = [await logWorkout(await signIn())];
  await ctrlC(first);

  const second = start();
  const warm = await second.ready;
  let token = await signIn();
  for (const id of kept)
    if (!(await myWorkoutIds(token)).includes(id)) fail(`workout ${id} lost after a restart`);
  kept.push(await logWorkout(token));
  // kill -9 of every process while writes are in flight.
  const inFlight = Array.from({ length: 5 }, () => logWorkout(token).catch(() => undefined));
  process.kill(-second.child.pid, 'SIGKILL');
  await second.exited;
  await Promise.allSettled(inFlight);

  const third = start();
  const afterKill = await third.ready;
  token = await signIn();
  const ids = await myWorkoutIds(token);
  for (const id of kept) if (!ids.includes(id)) fail(`workout ${id} lost after kill -9`, third.output());
  await logWorkout(token);
  await ctrlC(third);
  process.stdout.write(
    `smoke: pnpm start ready in ${cold} s (empty data), ${warm} s and ${afterKill} s (after Ctrl-C, after kill -9); workouts kept, writes work, Ctrl-C exits 0\n`,
  );
} catch (error) {
  fail(error.message);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
