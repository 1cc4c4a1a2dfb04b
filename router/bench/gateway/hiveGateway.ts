/**
 * The peer: Hive Gateway's runtime (the engine of Hive Gateway 2.15.1) on node:http,
 * configured only as far as its docs' programmatic setup needs. SUPERGRAPH_PATH, PORT
 * and SUBGRAPH_DEDUP (its in-flight subgraph request dedup, on by default) from the
 * environment; prints `{"url":...}` when listening.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import * as httpTransport from '@graphql-mesh/transport-http';

const gateway = createGatewayRuntime({
  supergraph: readFileSync(process.env.SUPERGRAPH_PATH!, 'utf8'),
  // The runtime looks transports up by package name from its own place, which a pnpm
  // workspace does not let it see; handing it over is the documented alternative.
  transports: () => httpTransport,
  transportEntries: {
    '*.http': { options: { deduplicateInflightRequests: process.env.SUBGRAPH_DEDUP !== 'false' } },
  },
  graphiql: false,
  landingPage: false,
  logging: 'warn',
});
const server = createServer(gateway);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` })}\n`);
});
// The runtime holds on to SIGTERM for a graceful dispose that can outlast the benchmark.
process.on('SIGTERM', () => process.exit(0));
