import { createLogger } from '@fitness/server-kit';
import { parsePrometheusText, postGraphQL } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/server.js';
import { startStubRouter, startStubSupergraph } from './stubSupergraph.js';

const NEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { headline: String, broken: String }
`;
const WEATHER = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { forecast: String }
`;

describe('router metrics of operations and subgraph fetches', () => {
  let stubs: Awaited<ReturnType<typeof startStubSupergraph>>;
  let router: RunningRouter;
  let url: string;

  beforeAll(async () => {
    stubs = await startStubSupergraph([
      {
        name: 'news',
        sdl: NEWS,
        resolvers: {
          Query: {
            headline: () => 'news',
            broken: () => {
              throw new Error('no broken news');
            },
          },
        },
      },
      { name: 'weather', sdl: WEATHER, resolvers: { Query: { forecast: () => 'sunny' } } },
    ]);
    router = await startStubRouter(stubs, createLogger('router', 'silent'));
    url = `http://127.0.0.1:${router.port}/graphql`;
  });

  afterAll(async () => {
    await router?.stop();
    await stubs?.stop();
  });

  const scrape = async () =>
    parsePrometheusText(await (await fetch(url.replace(/graphql$/, 'metrics'))).text());

  it('should time each operation by name and type, and each subgraph fetch by subgraph', async () => {
    await postGraphQL(url, 'query Morning { headline forecast }');
    await postGraphQL(url, 'query Morning { headline forecast }');
    await postGraphQL(url, 'query Broken { broken }');
    const metrics = await scrape();
    const count = (family: string, labels: Record<string, string>) =>
      metrics.find(family, labels).find((s) => s.name === `${family}_count`)?.value;
    expect(
      count('graphql_request_duration_seconds', { operation: 'Morning', type: 'query', outcome: 'ok' }),
    ).toBe(2);
    expect(
      count('graphql_request_duration_seconds', { operation: 'Broken', type: 'query', outcome: 'error' }),
    ).toBe(1);
    expect(count('router_subgraph_fetch_duration_seconds', { subgraph: 'news' })).toBeGreaterThanOrEqual(2);
    expect(count('router_subgraph_fetch_duration_seconds', { subgraph: 'weather' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      metrics.find('router_subgraph_fetch_errors_total', { subgraph: 'news', kind: 'graphql' })[0]?.value,
    ).toBe(1);
    expect(metrics.families.get('router_subgraph_fetch_duration_seconds')?.type).toBe('histogram');
    // What was there before stays.
    expect(metrics.families.has('router_subscriptions_active')).toBe(true);
    expect(metrics.families.has('router_operation_estimated_cost')).toBe(true);
  });

  it('should count the fetches of a subgraph that is down as unavailable', async () => {
    await stubs.subgraphs.weather!.stop();
    const { body } = await postGraphQL(url, 'query Forecast { forecast }');
    expect(body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const metrics = await scrape();
    expect(
      metrics.find('router_subgraph_fetch_errors_total', { subgraph: 'weather', kind: 'unavailable' })[0]
        ?.value,
    ).toBeGreaterThanOrEqual(1);
  });
});
