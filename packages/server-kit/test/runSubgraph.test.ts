import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, ROUTER_SECRET_HEADER, type RunningSubgraph, startSubgraph } from '../src/index.js';
import { echoSubgraph } from './fixtures/echoSubgraph.js';

const logger = createLogger('echo', 'silent');
const secret = 'echo-router-secret-echo-router-secret';
const running: RunningSubgraph[] = [];

const STARTS = [
  'open stores',
  'connect bus echo',
  'auth',
  'start',
  'start outbox',
  'start after-outbox task',
  'start erasure',
  'attach websocket',
];
const STOPS = [
  'stop websocket (HTTP listening: true)',
  'stop erasure',
  'stop after-outbox task',
  'stop outbox',
  'stop second task',
  'stop first task',
  'stop auth',
  'close bus',
  'close stores',
];

afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
});

async function start(options: Omit<Parameters<typeof echoSubgraph>[0], 'steps'> = {}) {
  const steps: string[] = [];
  const service = await startSubgraph(echoSubgraph({ steps, ...options }), logger);
  running.push(service);
  return { steps, service, base: service.url.replace(/\/graphql$/, '') };
}

function echo(url: string, text: string, headers: Record<string, string> = {}, delayMs = 0) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [ROUTER_SECRET_HEADER]: secret, ...headers },
    body: JSON.stringify({
      query: 'query ($text: String!, $delayMs: Int) { echo(text: $text, delayMs: $delayMs) viewer }',
      variables: { text, delayMs },
    }),
  });
}

describe('runSubgraph', () => {
  it('should open the stores, the bus and the auth setup, then start, the outbox relay, the tasks after it and the erasure, then attach the WebSocket server and listen', async () => {
    const { steps, service } = await start();
    expect(steps).toEqual(STARTS);
    const response = await echo(service.url, 'hi', { 'x-viewer': 'user-1' });
    expect(await response.json()).toEqual({ data: { echo: 'hi', viewer: 'user-1' } });
  });

  it('should refuse GraphQL requests without the router secret', async () => {
    const { service } = await start();
    const response = await fetch(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer }' }),
    });
    expect(response.status).toBe(401);
  });

  it("should answer GET /ready from the stores' check and show the bus and the extra checks in /health", async () => {
    let ready = true;
    const { base } = await start({ ready: () => ready });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    ready = false;
    expect((await fetch(`${base}/ready`)).status).toBe(503);
    const health = await fetch(`${base}/health`);
    expect(await health.json()).toEqual({ status: 'ok', dependencies: { bus: 'up', extra: 'down' } });
  });

  it("should serve GET /metrics with readiness, every dependency and the subgraph's own metrics", async () => {
    const { service, base } = await start();
    await echo(service.url, 'counted');
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('service_ready 1');
    expect(text).toContain('service_dependency_up{dependency="bus"} 1');
    expect(text).toContain('service_dependency_up{dependency="extra"} 0');
    expect(text).toMatch(/^echo_requests_total [1-9]/m);
  });

  it('should stop the WebSocket server while HTTP still listens, then drain HTTP, then the erasure, the tasks after the relay, the relay and the background tasks, the auth setup, the bus and the stores', async () => {
    const { steps, service } = await start();
    steps.length = 0;
    const inFlight = echo(service.url, 'slow', {}, 300);
    await new Promise((r) => setTimeout(r, 100));
    const stopped = Promise.all([service.stop(), service.stop()]);
    const response = await inFlight;
    expect(await response.json()).toEqual({ data: { echo: 'slow', viewer: null } });
    await stopped;
    expect(steps).toEqual(STOPS);
    await expect(fetch(service.url)).rejects.toThrow();
  });

  it('should stop what had started, in reverse, when start fails, and rethrow', async () => {
    const steps: string[] = [];
    await expect(startSubgraph(echoSubgraph({ steps, failStart: true }), logger)).rejects.toThrow(
      'start failed',
    );
    expect(steps).toEqual([
      'open stores',
      'connect bus echo',
      'auth',
      'start',
      'stop auth',
      'close bus',
      'close stores',
    ]);
  });

  it('should stop every task started and the WebSocket server when a task fails to start, and rethrow', async () => {
    const steps: string[] = [];
    await expect(startSubgraph(echoSubgraph({ steps, failErasure: true }), logger)).rejects.toThrow(
      'erasure failed',
    );
    // Neither the erasure nor HTTP started: the WebSocket server is stopped unattached.
    expect(steps).toEqual([
      ...STARTS.slice(0, STARTS.indexOf('start erasure')),
      'stop websocket (HTTP listening: undefined)',
      ...STOPS.slice(STOPS.indexOf('stop erasure') + 1),
    ]);
  });

  it('should list the held user ids at GET /accounts/held, distinct and sorted, behind the router secret', async () => {
    const { base } = await start();
    const held = await fetch(`${base}/accounts/held`, { headers: { [ROUTER_SECRET_HEADER]: secret } });
    expect(await held.json()).toEqual({ userIds: ['user-1', 'user-2'] });
    expect((await fetch(`${base}/accounts/held`)).status).toBe(401);
  });

  it('should finish a request in flight on SIGTERM, stop in order and exit 0', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/echoProcess.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const listening = new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const line = stdout.split('\n').find((l) => l.includes('"msg":"listening"'));
        if (line) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${stdout}`)));
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await listening;
      const inFlight = echo(`http://127.0.0.1:${port}/graphql`, 'last', {}, 400);
      await new Promise((r) => setTimeout(r, 150));
      child.kill('SIGTERM');
      expect(await (await inFlight).json()).toEqual({ data: { echo: 'last', viewer: null } });
      expect(await exited).toBe(0);
      const steps = stdout
        .split('\n')
        .filter((line) => line.startsWith('step: '))
        .map((line) => line.slice('step: '.length));
      expect(steps).toEqual([...STARTS, ...STOPS]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
