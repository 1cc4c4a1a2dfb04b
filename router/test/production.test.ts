import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import { errorCodes, postGraphQL } from '@fitness/testing';
import { freePort, repoRoot, type ServiceName, SUBGRAPHS } from '@fitness/tooling';
import { afterAll, describe, expect, it } from 'vitest';

const SERVICES: ServiceName[] = ['router', ...SUBGRAPHS];
const entry = (name: ServiceName) =>
  name === 'router' ? 'router/src/index.ts' : `subgraphs/${name}/src/index.ts`;

const strongSecret = () => randomBytes(32).toString('hex');
const children: ChildProcess[] = [];

/** One service's real entry point, with only `env` (no store URL of this machine leaks in). */
function launch(name: ServiceName, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, entry(name))], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output, exited };
}

/** The variables named by the problem lines of a refused configuration, in order. */
const refusedVariables = (stderr: string) =>
  stderr
    .split('\n')
    .slice(1)
    .map((line) => /^\s+([A-Z][A-Z0-9_]*)/.exec(line)?.[1])
    .filter(Boolean);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('production posture at start', () => {
  it('should refuse weak secrets, missing secrets and embedded stores in every service, all problems at once, without a stack', async () => {
    const expected: Record<ServiceName, string[]> = {
      router: ['LOG_LEVEL', 'ROUTER_SUBGRAPH_SECRET', 'JWT_SECRET'],
      users: ['LOG_LEVEL', 'MONGODB_URL', 'REDIS_URL', 'NATS_URL', 'ROUTER_SUBGRAPH_SECRET', 'JWT_SECRET'],
      workouts: [
        'LOG_LEVEL',
        'WORKOUTS_DATABASE_URL',
        'REDIS_URL',
        'NATS_URL',
        'ROUTER_SUBGRAPH_SECRET',
        'JWT_SECRET',
      ],
      payments: [
        'LOG_LEVEL',
        'PAYMENT_PROVIDER',
        'PAYMENTS_DATABASE_URL',
        'REDIS_URL',
        'NATS_URL',
        'ROUTER_SUBGRAPH_SECRET',
        'JWT_SECRET',
      ],
      recommendations: ['LOG_LEVEL', 'ROUTER_SUBGRAPH_SECRET', 'JWT_SECRET'],
    };
    // The router without any JWT_SECRET, every subgraph with a repetitive one.
    const runs = SERVICES.map((name) => ({
      name,
      ...launch(name, { LOG_LEVEL: 'loud', ...(name === 'router' ? {} : { JWT_SECRET: 'a'.repeat(32) }) }),
    }));
    for (const { name, output, exited } of runs) {
      expect(await exited, name).toBe(1);
      expect(output.stderr.split('\n')[0]).toBe(`${name}: invalid configuration`);
      expect(refusedVariables(output.stderr), name).toEqual(expected[name]);
      expect(output.stderr, name).not.toMatch(/\n\s+at /);
      expect(output.stderr, name).toMatch(
        name === 'router' ? /JWT_SECRET must be set/ : /JWT_SECRET uses fewer/,
      );
      expect(output.stdout, name).toBe('');
    }
  });

  it('should accept the embedded stores with ALLOW_EMBEDDED_STORES=true, and still want what is missing', async () => {
    const { output, exited } = launch('payments', {
      ALLOW_EMBEDDED_STORES: 'true',
      JWT_SECRET: strongSecret(),
      ROUTER_SUBGRAPH_SECRET: strongSecret(),
    });
    expect(await exited).toBe(1);
    expect(refusedVariables(output.stderr)).toEqual(['PAYMENT_PROVIDER']);
  });

  it('should serve a subgraph without introspection, `_service` only with the router secret, and a router banner without Sandbox', async () => {
    const routerSecret = strongSecret();
    const env = { JWT_SECRET: strongSecret(), ROUTER_SUBGRAPH_SECRET: routerSecret };
    const port = await freePort();
    const routerPort = await freePort();
    const recommendations = launch('recommendations', { ...env, PORT: String(port) });
    const router = launch('router', {
      ...env,
      PORT: String(routerPort),
      SUBGRAPH_RECOMMENDATIONS_URL: `http://127.0.0.1:${port}/graphql`,
    });
    const url = `http://127.0.0.1:${port}/graphql`;
    for (const [service, at] of [
      [recommendations, port],
      [router, routerPort],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        if (service.child.exitCode !== null) throw new Error(service.output.stdout + service.output.stderr);
        const ready = await fetch(`http://127.0.0.1:${at}/ready`).catch(() => undefined);
        if (ready?.ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const fromRouter = { [ROUTER_SECRET_HEADER]: routerSecret };
    const introspection = await postGraphQL(url, '{ __schema { queryType { name } } }', {}, fromRouter);
    expect(errorCodes(introspection.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const typeQuery = await postGraphQL(url, '{ __type(name: "Query") { name } }', {}, fromRouter);
    expect(errorCodes(typeQuery.body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const sdl = await postGraphQL<{ _service: { sdl: string } }>(url, '{ _service { sdl } }', {}, fromRouter);
    expect(sdl.body.data?._service.sdl).toContain('recommendations');
    expect((await postGraphQL(url, '{ _service { sdl } }')).status).toBe(401);

    for (const service of [recommendations, router]) {
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }
    expect(router.output.stdout).toMatch(/router listening/);
    expect(router.output.stdout).not.toMatch(/sandbox/i);
    expect(recommendations.output.stdout).toMatch(/"msg":"listening"/);
  });
});
