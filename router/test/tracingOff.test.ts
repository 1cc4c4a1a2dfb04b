import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createLogger, listen } from '@fitness/server-kit';
import { postGraphQL } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/server.js';
import { startStubRouter, startStubSupergraph } from './stubSupergraph.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { headline: String }
`;

describe('router with OTEL_EXPORTER_OTLP_ENDPOINT unset', () => {
  let stubs: Awaited<ReturnType<typeof startStubSupergraph>>;
  let router: RunningRouter;
  const received: IncomingHttpHeaders[] = [];
  // A subgraph that only records what the router sends.
  const recorder = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"headline":"news"}}');
    });
  });

  beforeAll(async () => {
    stubs = await startStubSupergraph([
      { name: 'news', sdl: SDL, resolvers: { Query: { headline: () => 'x' } } },
    ]);
    const port = await listen(recorder, 0, '127.0.0.1');
    router = await startStubRouter(stubs, createLogger('router', 'silent'), {
      SUBGRAPH_NEWS_URL: `http://127.0.0.1:${port}/graphql`,
    });
  });

  afterAll(async () => {
    await router?.stop();
    await stubs?.stop();
    recorder.closeAllConnections();
    recorder.close();
  });

  it("should send subgraphs no trace header, not even a client's", async () => {
    const { body } = await postGraphQL(
      `http://127.0.0.1:${router.port}/graphql`,
      '{ headline }',
      {},
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    );
    expect(body.data).toEqual({ headline: 'news' });
    expect(received.length).toBeGreaterThan(0);
    for (const headers of received) {
      expect(headers).not.toHaveProperty('traceparent');
      expect(headers).not.toHaveProperty('tracestate');
      expect(headers).not.toHaveProperty('apollo-federation-include-trace');
    }
  });
});
