import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEVELOPMENT_ROUTER_SECRET, optionalUrl, subgraphConfig, z } from '../src/index.js';

/** The variables named by the problem lines parseConfig printed before it exited (here: threw). */
function refusedVariables(run: () => unknown): string[] {
  const printed: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Error('exited');
  });
  expect(run).toThrow('exited');
  return printed
    .join('')
    .split('\n')
    .slice(1)
    .map((line) => /^\s+([A-Z][A-Z0-9_]*)/.exec(line)?.[1])
    .filter((v): v is string => Boolean(v));
}

afterEach(() => {
  vi.restoreAllMocks();
});

const env = {
  CLASSES_DATABASE_URL: optionalUrl(),
  CLASSES_PROVIDER: z.string().optional(),
  CLASSES_PAGE_SIZE: z.coerce.number().int().min(1).default(20),
};

const loadClasses = subgraphConfig('classes', {
  port: 4010,
  env,
  check(c, production, report) {
    if (production && !c.CLASSES_PROVIDER) report('CLASSES_PROVIDER', 'must be set in production');
  },
  embeddedStores: (c) => ({
    CLASSES_DATABASE_URL: { url: c.CLASSES_DATABASE_URL, standIn: 'an embedded one' },
  }),
  build: (c, settings) => ({ pageSize: c.CLASSES_PAGE_SIZE, production: settings.production }),
});

describe('subgraphConfig', () => {
  it('should merge the shared settings with what build returns, with the defaults of both', () => {
    expect(loadClasses({})).toEqual({
      production: false,
      host: '127.0.0.1',
      port: 4010,
      logLevel: 'info',
      logFormat: 'auto',
      tracing: { url: undefined, protocol: 'http/protobuf', serviceName: undefined },
      natsUrl: undefined,
      eventHub: undefined,
      routerSecret: DEVELOPMENT_ROUTER_SECRET,
      pageSize: 20,
    });
    expect(loadClasses({ PORT: '0', NATS_URL: 'nats://127.0.0.1:4222', EVENT_HUB: 'ipc' })).toMatchObject({
      port: 0,
      natsUrl: 'nats://127.0.0.1:4222',
      eventHub: 'ipc',
    });
  });

  it("should list, in production, invalid variables, then check's, then the stores and the bus, then the router secret", () => {
    expect(
      refusedVariables(() =>
        loadClasses({ NODE_ENV: 'production', LOG_LEVEL: 'loud', CLASSES_PAGE_SIZE: '0' }),
      ),
    ).toEqual([
      'LOG_LEVEL',
      'CLASSES_PAGE_SIZE',
      'CLASSES_PROVIDER',
      'CLASSES_DATABASE_URL',
      'NATS_URL',
      'ROUTER_SUBGRAPH_SECRET',
    ]);
  });

  it('should accept the embedded stand-ins with ALLOW_EMBEDDED_STORES=true, and refuse none without embeddedStores', () => {
    const production = {
      NODE_ENV: 'production',
      CLASSES_PROVIDER: 'real',
      ROUTER_SUBGRAPH_SECRET: 'f3a9c1d7e5b2a8c4f6d0e9b1a7c3d5e2',
    };
    expect(loadClasses({ ...production, ALLOW_EMBEDDED_STORES: 'true' }).production).toBe(true);
    const standIns = subgraphConfig('advice', { port: 4011, env: {}, build: () => ({}) });
    expect(standIns(production).natsUrl).toBeUndefined();
  });
});
