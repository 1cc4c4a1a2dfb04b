import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenIssuer } from '@fitness/auth';
import { createLogger } from '@fitness/server-kit';
import { bearer, freePort, logLines } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/server.js';
import { startStubSubgraph } from './stubSubgraph.js';
import { startStubRouter, startStubSupergraph } from './stubSupergraph.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { headline: String, broken: String }
`;

const NEWS_RESOLVERS = {
  Query: {
    headline: () => 'news',
    broken: () => {
      throw new Error('no broken news');
    },
  },
};

const ask = (url: string, query: string, requestId: string, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
    body: JSON.stringify({ query }),
  });

// Tracing is off in these tests: the router has no request scope, so each line
// written during a request must name the request itself.
describe('router log lines', () => {
  let stubs: Awaited<ReturnType<typeof startStubSupergraph>>;
  let router: RunningRouter;
  let url: string;
  const { stream, lines } = logLines();

  beforeAll(async () => {
    stubs = await startStubSupergraph([{ name: 'news', sdl: SDL, resolvers: NEWS_RESOLVERS }]);
    router = await startStubRouter(stubs, createLogger('router', 'info', 'json', stream));
    url = `http://127.0.0.1:${router.port}/graphql`;
  });

  afterAll(async () => {
    await router?.stop();
    await stubs?.stop();
  });

  it('should log an unexpected error with the request id of the request that met it', async () => {
    const response = await ask(url, '{ broken }', 'broken-request');
    expect(response.status).toBe(200);
    const line = lines.find((l) => l.msg === 'unexpected error in operation');
    expect(line).toMatchObject({ service: 'router', requestId: 'broken-request', path: ['broken'] });
  });

  it("should log a subgraph's outage with the request id of the request that met it", async () => {
    await stubs.subgraphs.news!.stop();
    const response = await ask(url, '{ headline }', 'client-chosen-id');
    expect(response.status).toBe(200);
    const outage = lines.find(
      (line) => line.msg === 'subgraph unavailable; its fields answer null with an error',
    );
    expect(outage).toMatchObject({ service: 'router', subgraph: 'news', requestId: 'client-chosen-id' });
  });

  it("should log a subgraph's return with the request id of the request that found it back", async () => {
    const { port } = stubs.subgraphs.news!;
    stubs.subgraphs.news = await startStubSubgraph(SDL, NEWS_RESOLVERS, port);
    const response = await ask(url, '{ headline }', 'found-it-back');
    expect(await response.json()).toEqual({ data: { headline: 'news' } });
    const back = lines.find((line) => line.msg === 'subgraph available again');
    expect(back).toMatchObject({ subgraph: 'news', requestId: 'found-it-back' });
  });

  it('should leave no request id on lines written outside a request', () => {
    const listening = lines.find((line) => line.msg === 'router listening');
    expect(listening).toBeDefined();
    expect(listening).not.toHaveProperty('requestId');
  });
});

const STORY = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { story: String }
`;
const SECRET = 'log-scope-test-secret-long-enough-to-pass';

/** A server that answers every request with `body` (a subgraph, or Apollo's usage ingress). */
async function answering(body: unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Lines written deeper down during a request, by code that is handed the request's
 * id (the revocation list behind the token check) or its request context's logger
 * (@apollo/gateway's executeQueryPlan): with Apollo Studio on, a subgraph whose
 * inline trace cannot be read is reported by whichever executor runs the plan.
 */
describe('router log lines from the token check and the executors', () => {
  let stubs: Awaited<ReturnType<typeof startStubSupergraph>>;
  let subgraph: Awaited<ReturnType<typeof answering>>;
  let usage: Awaited<ReturnType<typeof answering>>;
  const routers: RunningRouter[] = [];
  const { stream, lines } = logLines();
  let env: Record<string, string>;

  beforeAll(async () => {
    stubs = await startStubSupergraph([
      { name: 'story', sdl: STORY, resolvers: { Query: { story: () => '' } } },
    ]);
    // The story subgraph's answers: an inline trace that is no protobuf.
    subgraph = await answering({ data: { story: 'odd' }, extensions: { ftv1: '////' } });
    usage = await answering({});
    env = {
      JWT_SECRET: SECRET,
      // A Redis that is not there: the revocation list answers from its mirror.
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      APOLLO_KEY: 'service:log-scope-test:not-a-real-key',
      APOLLO_GRAPH_REF: 'log-scope-test@current',
      APOLLO_USAGE_REPORTING_ENDPOINT: usage.url,
      SUBGRAPH_STORY_URL: subgraph.url,
    };
  });

  afterAll(async () => {
    for (const router of routers) await router.stop();
    await stubs?.stop();
    subgraph?.server.close();
    usage?.server.close();
  });

  const start = async (executor: string) => {
    const router = await startStubRouter(stubs, createLogger('router', 'info', 'json', stream), {
      ...env,
      ROUTER_EXECUTOR: executor,
    });
    routers.push(router);
    return `http://127.0.0.1:${router.port}/graphql`;
  };

  it("should name the request whose token check found the revocation list's Redis down", async () => {
    const url = await start('router');
    const issue = createTokenIssuer({
      secret: SECRET,
      issuer: 'fitness-users',
      audience: 'fitness-api',
      ttlSeconds: 600,
    });
    const { token } = await issue({ userId: 'u1', region: 'EU' });
    const response = await ask(url, '{ story }', 'checked-token', bearer(token));
    expect(response.status).toBe(200);
    const line = lines.find(
      (l) => l.msg === 'revocations unavailable: checking tokens against those seen here',
    );
    expect(line).toMatchObject({ service: 'router', requestId: 'checked-token' });
    // The same request met the unreadable inline trace, on the router's executor.
    const trace = lines.find((l) => l.msg === 'a subgraph sent an unreadable inline trace');
    expect(trace).toMatchObject({ subgraph: 'story', requestId: 'checked-token' });
  });

  it("should name it on @apollo/gateway's executor too, whose lines go to the request context's logger", async () => {
    const url = await start('gateway');
    const response = await ask(url, '{ story }', 'gateway-traced');
    expect(await response.json()).toEqual({ data: { story: 'odd' } });
    const line = lines.find(
      (l) =>
        typeof l.msg === 'string' &&
        l.msg.startsWith('error decoding protobuf for federated trace from story'),
    );
    expect(line).toMatchObject({ service: 'router', level: 50, requestId: 'gateway-traced' });
  });
});
