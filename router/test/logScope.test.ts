import { createLogger } from '@fitness/server-kit';
import { logLines } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/server.js';
import { startStubRouter, startStubSupergraph } from './stubSupergraph.js';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { headline: String, broken: String }
`;

describe('router log lines', () => {
  let stubs: Awaited<ReturnType<typeof startStubSupergraph>>;
  let router: RunningRouter;
  let url: string;
  const { stream, lines } = logLines();

  beforeAll(async () => {
    stubs = await startStubSupergraph([
      {
        name: 'news',
        sdl: SDL,
        resolvers: {
          Query: {
            headline: () => 'news',
            broken: () => {
              throw new Error('no broken news');
            },
          },
        },
      },
    ]);
    router = await startStubRouter(stubs, createLogger('router', 'info', 'json', stream));
    url = `http://127.0.0.1:${router.port}/graphql`;
  });

  afterAll(async () => {
    await router?.stop();
    await stubs?.stop();
  });

  const ask = (query: string, requestId: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query }),
    });

  it('should log an unexpected error with the request id of the request that met it', async () => {
    const response = await ask('{ broken }', 'broken-request');
    expect(response.status).toBe(200);
    const line = lines.find((l) => l.msg === 'unexpected error in operation');
    expect(line).toMatchObject({ service: 'router', requestId: 'broken-request', path: ['broken'] });
  });

  it("should log a subgraph's outage with the request id of the request that met it", async () => {
    await stubs.subgraphs.news!.stop();
    const response = await ask('{ headline }', 'client-chosen-id');
    expect(response.status).toBe(200);
    const outage = lines.find(
      (line) => line.msg === 'subgraph unavailable; its fields answer null with an error',
    );
    expect(outage).toMatchObject({ service: 'router', subgraph: 'news', requestId: 'client-chosen-id' });
  });

  it('should leave no request id on lines written outside a request', () => {
    const listening = lines.find((line) => line.msg === 'router listening');
    expect(listening).toBeDefined();
    expect(listening).not.toHaveProperty('requestId');
  });
});
