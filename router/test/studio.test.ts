import { createServer } from 'node:http';
import type { Trace } from '@apollo/usage-reporting-protobuf';
import { createLogger } from '@fitness/server-kit';
import { postGraphQL, waitFor } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSupergraph } from './stubSupergraph.js';
import { body, fetchesOf, listenOn, startUsageReceiver, tracesOf } from './usageReports.js';

const NEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { headline: String }
`;
const WEATHER = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { forecast: String }
`;
const KEY = 'service:fitness-test:not-a-real-key';
const GRAPH_REF = 'fitness-test@current';

/** Apollo Uplink as this test sees it: answers routerConfig with one supergraph. */
async function startUplink(supergraphSdl: string) {
  const asked: { apiKey: string; ref: string }[] = [];
  const server = createServer(async (req, res) => {
    const { variables } = JSON.parse((await body(req)).toString('utf8')) as {
      variables: { apiKey: string; ref: string };
    };
    asked.push(variables);
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        data: {
          routerConfig: {
            __typename: 'RouterConfigResult',
            id: 'composition-1',
            supergraphSdl,
            minDelaySeconds: 60,
          },
        },
      }),
    );
  });
  return { url: await listenOn(server), asked, server };
}

describe('Apollo Studio: usage reports and managed federation', () => {
  let stubs: Awaited<ReturnType<typeof startStubSupergraph>>;
  let usage: Awaited<ReturnType<typeof startUsageReceiver>>;
  let uplink: Awaited<ReturnType<typeof startUplink>>;
  let router: RunningRouter | undefined;

  beforeAll(async () => {
    stubs = await startStubSupergraph(
      [
        { name: 'news', sdl: NEWS, resolvers: { Query: { headline: () => 'news' } } },
        { name: 'weather', sdl: WEATHER, resolvers: { Query: { forecast: () => 'sunny' } } },
      ],
      { inlineTrace: true },
    );
    usage = await startUsageReceiver();
    uplink = await startUplink(stubs.supergraphSdl);
  });

  afterAll(async () => {
    await router?.stop();
    await stubs?.stop();
    usage?.server.close();
    uplink?.server.close();
  });

  it.each(['router', 'gateway'])(
    'should serve the supergraph Uplink serves and report the Dashboard operation under its name, with the subgraphs’ traces (%s executor)',
    async (executor) => {
      const before = usage.reports.length;
      router = await startRouter(
        loadConfig({
          PORT: '0',
          APOLLO_KEY: KEY,
          APOLLO_GRAPH_REF: GRAPH_REF,
          APOLLO_USAGE_REPORTING_ENDPOINT: usage.url,
          APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: `${uplink.url}/`,
          ROUTER_EXECUTOR: executor,
        }),
        createLogger('router', 'silent'),
      );
      expect(uplink.asked.at(-1)).toMatchObject({ apiKey: KEY, ref: GRAPH_REF });
      const { body: result } = await postGraphQL(
        `http://127.0.0.1:${router.port}/graphql`,
        'query Dashboard { headline forecast }',
      );
      expect(result).toEqual({ data: { headline: 'news', forecast: 'sunny' } });
      // Stopping flushes the report that is being gathered.
      await router.stop();
      router = undefined;
      await waitFor(() => usage.reports.length > before, 'a usage report');
      const { apiKey, report } = usage.reports[before]!;
      expect(apiKey).toBe(KEY);
      expect(report.header?.graphRef).toBe(GRAPH_REF);
      const dashboard = tracesOf(report).find(({ key }) => key.startsWith('# Dashboard\n'));
      expect(dashboard, Object.keys(report.tracesPerQuery ?? {}).join(', ')).toBeDefined();
      // Each executor asked each subgraph for its inline trace and handed it on.
      const fetches = fetchesOf(dashboard!.trace.queryPlan);
      expect(fetches.map((fetch) => fetch.serviceName).sort()).toEqual(['news', 'weather']);
      for (const fetch of fetches) {
        expect(fetch.trace?.root, fetch.serviceName ?? '').toBeTruthy();
        expect(fetch.traceParsingFailed).toBeFalsy();
      }
    },
  );

  it('should send nothing anywhere without a key', async () => {
    const before = usage.reports.length;
    const quiet = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: stubs.supergraphPath,
        APOLLO_USAGE_REPORTING_ENDPOINT: usage.url,
      }),
      createLogger('router', 'silent'),
    );
    await postGraphQL(`http://127.0.0.1:${quiet.port}/graphql`, 'query Dashboard { headline }');
    await quiet.stop();
    expect(usage.reports.length).toBe(before);
  });
});

const STORIES = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { story: Story }
  type Story { author: Person editor: Person }
  type Person @key(fields: "id") { id: ID! }
`;
const PEOPLE = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Person @key(fields: "id") { id: ID! name: String }
`;

/** How many times a subgraph trace resolved the field `name` (under any alias), anywhere in it. */
function resolvedCount(node: Trace.INode | null | undefined, name: string): number {
  if (!node) return 0;
  const own = (node.originalFieldName || node.responseName) === name ? 1 : 0;
  return own + (node.child ?? []).reduce((sum, child) => sum + resolvedCount(child, name), 0);
}

describe('Apollo Studio: the trace of fetches merged into one subgraph request', () => {
  it('should hand the one subgraph trace of a merged request to one of its fetches, so that nothing is counted twice', async () => {
    const stubs = await startStubSupergraph(
      [
        {
          name: 'stories',
          sdl: STORIES,
          resolvers: { Query: { story: () => ({ author: { id: 'a' }, editor: { id: 'e' } }) } },
        },
        {
          name: 'people',
          sdl: PEOPLE,
          resolvers: {
            Person: { __resolveReference: ({ id }: { id: string }) => ({ id, name: `name ${id}` }) },
          },
        },
      ],
      { inlineTrace: true },
    );
    const usage = await startUsageReceiver();
    try {
      const router = await startRouter(
        loadConfig({
          PORT: '0',
          SUPERGRAPH_PATH: stubs.supergraphPath,
          APOLLO_KEY: KEY,
          APOLLO_GRAPH_REF: GRAPH_REF,
          APOLLO_USAGE_REPORTING_ENDPOINT: usage.url,
        }),
        createLogger('router', 'silent'),
      );
      const { body: result } = await postGraphQL(
        `http://127.0.0.1:${router.port}/graphql`,
        'query Bylines { story { author { name } editor { name } } }',
      );
      expect(result).toEqual({ data: { story: { author: { name: 'name a' }, editor: { name: 'name e' } } } });
      await router.stop();
      await waitFor(() => usage.reports.length > 0, 'a usage report');
      const bylines = tracesOf(usage.reports[0]!.report).find(({ key }) => key.startsWith('# Bylines\n'));
      expect(bylines).toBeDefined();
      const people = fetchesOf(bylines!.trace.queryPlan).filter((fetch) => fetch.serviceName === 'people');
      // Two fetches in the plan, sent as one request: the subgraph resolved _entities once.
      expect(people).toHaveLength(2);
      const traced = people.filter((fetch) => fetch.trace?.root);
      expect(traced).toHaveLength(1);
      expect(resolvedCount(traced[0]!.trace!.root, '_entities')).toBe(2);
      expect(people.every((fetch) => !fetch.traceParsingFailed)).toBe(true);
    } finally {
      usage.server.close();
      await stubs.stop();
    }
  });
});
