import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { EventHub, InProcessEventBus, processChannel } from '@fitness/events';
import { formatLogLine } from '@fitness/server-kit';
import { repoRoot } from './supergraphConfig.js';

export const SUBGRAPHS = ['users', 'workouts', 'payments', 'recommendations'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];
export type ServiceName = SubgraphName | 'router';

export const DEFAULT_PORTS: Record<ServiceName, number> = {
  router: 4000,
  users: 4001,
  workouts: 4002,
  payments: 4003,
  recommendations: 4004,
};

const ENTRY: Record<ServiceName, string> = {
  router: 'router/src/index.ts',
  users: 'subgraphs/users/src/index.ts',
  workouts: 'subgraphs/workouts/src/index.ts',
  payments: 'subgraphs/payments/src/index.ts',
  recommendations: 'subgraphs/recommendations/src/index.ts',
};

export interface StackOptions {
  /** Ports to use; 'free' picks unused ones (tests). @default DEFAULT_PORTS */
  ports?: Record<ServiceName, number> | 'free';
  /** Environment for every service, on top of this process's. */
  env?: Record<string, string | undefined>;
  /** Environment for one service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string | undefined>>>;
  /** Where service output goes: this process's stdout with a prefix, or kept in memory. */
  output?: 'prefix' | 'capture';
  /** With 'prefix': print the services' JSON log lines readable (and coloured on a terminal). */
  pretty?: boolean;
  /**
   * Host one event bus here for every service, reached over their IPC channels, so
   * events cross services without NATS (`pnpm start` on a bare machine).
   * @default false
   */
  eventHub?: boolean;
  /** @default 90_000 */
  readyTimeoutMs?: number;
}

export interface RunningService {
  name: ServiceName;
  port: number;
  url: string;
  process: ChildProcess;
  /** Captured output (capture mode). */
  output: string[];
}

export interface ReplicaOptions {
  /**
   * Another checkout of this repository (with its dependencies installed) to run the
   * replica from: a benchmark's baseline revision beside the code under test.
   */
  checkout?: string;
}

export interface Stack {
  services: Record<ServiceName, RunningService>;
  /** The bus the stack hosts (with `eventHub`), for operators' and tests' questions. */
  eventBus: InProcessEventBus | undefined;
  routerUrl: string;
  /** Starts one service again (after `kill`), with the same port and environment. */
  restart(name: ServiceName): Promise<void>;
  /**
   * Starts one more instance of a service (a replica) on a free port, with extra
   * environment; it is stopped with the stack. Returns its base URL.
   */
  addReplica(
    name: ServiceName,
    env?: Record<string, string | undefined>,
    options?: ReplicaOptions,
  ): Promise<RunningService>;
  /** Sends a signal to one service and waits for it to exit. */
  kill(name: ServiceName, signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGTERM to everything (router first), SIGKILL to what has not exited after 15 s. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
}

/**
 * Runs the four subgraphs and the router as separate processes, exactly as they run
 * in production, and waits until each answers /ready. Used by `pnpm start` and by
 * the end-to-end tests.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ports: Record<ServiceName, number> =
    options.ports === 'free'
      ? {
          router: await freePort(),
          users: await freePort(),
          workouts: await freePort(),
          payments: await freePort(),
          recommendations: await freePort(),
        }
      : (options.ports ?? DEFAULT_PORTS);
  const output = options.output ?? 'prefix';
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  const services = {} as Record<ServiceName, RunningService>;
  const routerEnv: Record<string, string> = {};
  for (const name of SUBGRAPHS) {
    routerEnv[`SUBGRAPH_${name.toUpperCase()}_URL`] = `http://127.0.0.1:${ports[name]}/graphql`;
  }

  const replicas: RunningService[] = [];
  // One bus for the whole stack when asked: services reach it over IPC.
  const hub = options.eventHub ? new EventHub(new InProcessEventBus()) : undefined;
  // One secret for the whole stack, replicas and restarts included, so that the
  // router's subgraph requests are accepted without anyone configuring one.
  const routerSecret =
    options.env?.ROUTER_SUBGRAPH_SECRET ||
    process.env.ROUTER_SUBGRAPH_SECRET ||
    randomBytes(32).toString('hex');

  function launch(
    name: ServiceName,
    replica?: { port: number; env?: Record<string, string | undefined>; checkout?: string },
  ): RunningService {
    const port = replica?.port ?? ports[name];
    const env = {
      ...process.env,
      ROUTER_SUBGRAPH_SECRET: routerSecret,
      ...(hub ? { EVENT_HUB: 'ipc' } : {}),
      ...options.env,
      ...(name === 'router' ? routerEnv : {}),
      ...options.serviceEnv?.[name],
      ...replica?.env,
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    const root = replica?.checkout ?? repoRoot;
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, ENTRY[name])], {
      cwd: root,
      env,
      stdio: hub ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    // The router too: it hears users.deleted and users.signed_out (token revocations).
    if (hub) hub.attach(processChannel(child));
    const running: RunningService = {
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      process: child,
      output: replica ? [] : (services[name]?.output ?? []),
    };
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (output === 'capture') {
        running.output.push(text);
        if (running.output.length > 2000) running.output.splice(0, 1000);
      } else {
        for (const line of text.split('\n')) {
          if (!line) continue;
          const shown = options.pretty ? formatLogLine(line, { color: process.stdout.isTTY === true }) : line;
          // A formatted record names its service itself; anything else gets the prefix.
          process.stdout.write(shown !== line ? `${shown}\n` : `${name.padEnd(15)} | ${line}\n`);
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    if (replica) replicas.push(running);
    else services[name] = running;
    return running;
  }

  async function waitReady(service: RunningService): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (service.process.exitCode !== null) {
        throw new Error(
          `${service.name} exited with code ${service.process.exitCode} before it was ready\n${service.output.join('')}`,
        );
      }
      try {
        const res = await fetch(`${service.url}/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(150);
    }
    throw new Error(`${service.name} was not ready within ${readyTimeoutMs} ms\n${service.output.join('')}`);
  }

  const stack: Stack = {
    services,
    eventBus: hub?.bus,
    routerUrl: `http://127.0.0.1:${ports.router}/graphql`,
    async restart(name) {
      await waitReady(launch(name));
    },
    async addReplica(name, env, options) {
      const replica = launch(name, {
        port: await freePort(),
        ...(env ? { env } : {}),
        ...(options?.checkout ? { checkout: options.checkout } : {}),
      });
      await waitReady(replica);
      return replica;
    },
    async kill(name, signal = 'SIGKILL') {
      const child = services[name].process;
      child.kill(signal);
      return waitForExit(child, 15_000);
    },
    async stop() {
      await Promise.all(
        replicas.map((r) => {
          r.process.kill('SIGTERM');
          return waitForExit(r.process, 15_000);
        }),
      );
      const router = services.router;
      if (router) {
        router.process.kill('SIGTERM');
        await waitForExit(router.process, 15_000);
      }
      await Promise.all(
        SUBGRAPHS.filter((n) => services[n]).map((n) => {
          services[n].process.kill('SIGTERM');
          return waitForExit(services[n].process, 15_000);
        }),
      );
      await hub?.bus.close();
    },
  };

  try {
    await Promise.all(SUBGRAPHS.map((name) => waitReady(launch(name))));
    await waitReady(launch('router'));
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}
