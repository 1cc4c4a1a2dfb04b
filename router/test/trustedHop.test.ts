import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createLogger, ROUTER_SECRET_HEADER, type Served, serve } from '@fitness/server-kit';
import { errorCodes, postGraphQL } from '@fitness/testing';
import { composeSupergraph } from '@fitness/tooling';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startRouter } from '../src/server.js';

const logger = createLogger('router-test', 'silent');
const SUBGRAPH_SECRET = randomBytes(32).toString('hex');
const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { ping: String }
`;

/** A subgraph served as the four real ones are (server-kit's serve), remembering what reached it. */
async function startGuardedSubgraph() {
  const reached: IncomingHttpHeaders[] = [];
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs: parse(SDL), resolvers: { Query: { ping: () => 'pong' } } }),
  });
  const served = await serve({
    logger,
    apollo,
    routerSecret: SUBGRAPH_SECRET,
    authenticate: async (req) => {
      reached.push(req.headers);
      return {};
    },
    context: () => ({}),
    ready: async () => true,
    host: '127.0.0.1',
    port: 0,
    closeStores: async () => {},
  });
  return { served, reached };
}

describe('the hop from the router to a subgraph', () => {
  let dir: string;
  let subgraph: { served: Served; reached: IncomingHttpHeaders[] };
  let supergraphPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'router-hop-'));
    subgraph = await startGuardedSubgraph();
    writeFileSync(join(dir, 'guarded.graphql'), SDL);
    const { supergraphSdl } = composeSupergraph([
      { name: 'guarded', routingUrl: subgraph.served.url, schemaPath: join(dir, 'guarded.graphql') },
    ]);
    supergraphPath = join(dir, 'supergraph.graphql');
    writeFileSync(supergraphPath, supergraphSdl);
  });
  afterAll(async () => {
    await subgraph?.served.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const withRouter = async (secret: string, run: (url: string) => Promise<void>) => {
    const router = await startRouter(
      loadConfig({ PORT: '0', SUPERGRAPH_PATH: supergraphPath, ROUTER_SUBGRAPH_SECRET: secret }),
      logger,
    );
    try {
      await run(router.url);
    } finally {
      await router.stop();
    }
  };

  it('should carry the router secret, never one a client sent, and be answered', async () => {
    await withRouter(SUBGRAPH_SECRET, async (url) => {
      const { body } = await postGraphQL(url, '{ ping }', {}, { [ROUTER_SECRET_HEADER]: 'client-sent' });
      expect(body).toEqual({ data: { ping: 'pong' } });
      expect(subgraph.reached.at(-1)?.[ROUTER_SECRET_HEADER]).toBe(SUBGRAPH_SECRET);
    });
  });

  it('should get nothing from a subgraph with a router that holds another secret', async () => {
    const before = subgraph.reached.length;
    await withRouter(randomBytes(32).toString('hex'), async (url) => {
      const { body } = await postGraphQL(url, '{ ping }');
      expect(body.data).toEqual({ ping: null });
      expect(errorCodes(body)).toEqual(['SERVICE_UNAVAILABLE']);
    });
    // Refused before authenticate: nothing of the request was looked at.
    expect(subgraph.reached.length).toBe(before);
  });
});
