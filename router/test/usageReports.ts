import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Report, type Trace } from '@apollo/usage-reporting-protobuf';

// Apollo Studio as the tests see it: a usage reporting ingress in the test, and
// readers of the reports it decoded.

/** A request's whole body. */
export function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/** Listens on a free loopback port; resolves with the server's base URL. */
export async function listenOn(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Apollo's usage reporting ingress as this test sees it: each report decoded, with its API key. */
export async function startUsageReceiver() {
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

/** Every trace of a report, with its operation's key (`# Name\nsignature`). */
export const tracesOf = (report: Report) =>
  Object.entries(report.tracesPerQuery ?? {}).flatMap(([key, entry]) =>
    ((entry.trace ?? []) as Trace[]).map((trace) => ({ key, trace })),
  );

/** The fetch nodes of a query plan trace. */
export function fetchesOf(node: Trace.IQueryPlanNode | null | undefined): Trace.QueryPlanNode.IFetchNode[] {
  if (!node) return [];
  if (node.fetch) return [node.fetch];
  const children = [
    ...(node.sequence?.nodes ?? []),
    ...(node.parallel?.nodes ?? []),
    ...(node.flatten?.node ? [node.flatten.node] : []),
  ];
  return children.flatMap((child) => fetchesOf(child));
}
