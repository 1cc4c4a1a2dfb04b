import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Report, type Trace } from '@apollo/usage-reporting-protobuf';
import { createLogger } from '@fitness/server-kit';
import { postGraphQL, waitFor } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSupergraph } from './stubSupergraph.js';

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

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

async function listenOn(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Apollo's usage reporting ingress as this test sees it: each report decoded, with its API key. */
async function startUsageReceiver() {
  const reports: { apiKey: string | undefined; report: Report }[] = [];
  const server = createServer(async (req, res) => {
    const raw = await body(req);
    if (req.method !== 'POST' || req.url !== '/api/ingress/traces') {
      res.writeHead(404).end();
      return;
    }
    const apiKey = req.headers['x-api-key'] as string | undefined;
    reports.push({ apiKey, report: Report.decode(gunzipSync(raw)) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return { url: await listenOn(server), reports, server };
}

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

/** Every trace of a report, with its operation's key (`# Name\nsignature`). */
const tracesOf = (report: Report) =>
  Object.entries(report.tracesPerQuery ?? {}).flatMap(([key, entry]) =>
    ((entry.trace ?? []) as Trace[]).map((trace) => ({ key, trace })),
  );

/** The fetch nodes of a query plan trace. */
function fetchesOf(node: Trace.IQueryPlanNode | null | undefined): Trace.QueryPlanNode.IFetchNode[] {
  if (!node) return [];
  if (node.fetch) return [node.fetch];
  const children = [
    ...(node.sequence?.nodes ?? []),
    ...(node.parallel?.nodes ?? []),
    ...(node.flatten?.node ? [node.flatten.node] : []),
  ];
  return children.flatMap((child) => fetchesOf(child));
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
