import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fitness/server-kit';
import { postGraphQL } from '@fitness/testing';
import { composeSupergraph } from '@fitness/tooling';
import { GraphQLError, parse, print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { nestsDeeperThan } from '../src/limits.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSubgraph } from './stubSubgraph.js';

const quiet = createLogger('edge-test', 'silent');
const SECRET = 'edge-test-secret-that-is-long-enough-9';
const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello(name: String): String, fail: String, profile: Profile }
  type Profile { email: String, handle: String }
`;

const startStub = () =>
  startStubSubgraph(SDL, {
    Query: {
      hello: (_: unknown, { name }: { name?: string }) => `hello ${name ?? 'you'}`,
      fail: () => {
        throw new GraphQLError('That name is taken.', { extensions: { code: 'CONFLICT' } });
      },
      profile: () => ({ email: 'a@example.com', handle: 'ann' }),
    },
  });

const wsRun = async (url: string, query: string) => {
  const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  try {
    return await new Promise<{ next?: unknown; error?: unknown }>((resolve) => {
      client.subscribe(
        { query },
        {
          next: (next) => resolve({ next }),
          error: (error) => resolve({ error }),
          complete: () => resolve({}),
        },
      );
    });
  } finally {
    await client.dispose();
  }
};

describe('router edge', () => {
  let dir: string;
  let stub: Awaited<ReturnType<typeof startStub>>;
  const routers: RunningRouter[] = [];
  let dev: RunningRouter;
  let prod: RunningRouter;
  let listed: RunningRouter;
  let manifestPath: string;
  const LISTED = 'query Hello($name: String) { hello(name: $name) }';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'router-edge-'));
    stub = await startStub();
    const schemaPath = join(dir, 'stub.graphql');
    writeFileSync(schemaPath, SDL);
    const supergraphPath = join(dir, 'supergraph.graphql');
    writeFileSync(
      supergraphPath,
      composeSupergraph([{ name: 'stub', routingUrl: stub.url, schemaPath }]).supergraphSdl,
    );
    const body = print(parse(LISTED));
    manifestPath = join(dir, 'manifest.json');
    writeFileSync(
      manifestPath,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [
          { id: createHash('sha256').update(body).digest('hex'), name: 'Hello', type: 'query', body },
        ],
      }),
    );
    const env = {
      PORT: '0',
      SUPERGRAPH_PATH: supergraphPath,
      JWT_SECRET: SECRET,
      // Required in production; one for all three routers, since a process sends one.
      ROUTER_SUBGRAPH_SECRET: 'e3b1c5a7d9f2e4c6a8b0d2f4e6c8a1b3d5f7e9c2a4b6d8f0e1c3a5b7d9f2e4c6',
    };
    dev = await startRouter(loadConfig(env), quiet);
    prod = await startRouter(loadConfig({ ...env, NODE_ENV: 'production' }), quiet);
    listed = await startRouter(loadConfig({ ...env, OPERATION_SAFELIST: manifestPath }), quiet);
    routers.push(dev, prod, listed);
  });

  afterAll(async () => {
    for (const r of routers) await r.stop();
    await stub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('production posture', () => {
    it('should suggest field names in development only, on HTTP and WebSocket', async () => {
      const typo = '{ profile { emial } }';
      const inDev = await postGraphQL(dev.url, typo);
      expect(inDev.body.errors?.[0]?.message).toMatch(/Did you mean "email"\?/);
      const inProd = await postGraphQL(prod.url, typo);
      expect(inProd.body.errors?.[0]).toMatchObject({
        message: 'Cannot query field "emial" on type "Profile".',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
      const overWs = (await wsRun(prod.url, typo)).error as { message: string }[];
      expect(overWs[0]?.message).toBe('Cannot query field "emial" on type "Profile".');
      const subscription = (await wsRun(prod.url, 'subscription { helo }')).error as { message: string }[];
      expect(JSON.stringify(subscription)).not.toContain('Did you mean');
    });

    it('should not name the subgraph behind an error in production', async () => {
      const inDev = await postGraphQL(dev.url, '{ fail }');
      expect(inDev.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', serviceName: 'stub' });
      const inProd = await postGraphQL(prod.url, '{ fail }');
      expect(inProd.body.errors?.[0]).toMatchObject({
        message: 'That name is taken.',
        extensions: { code: 'CONFLICT' },
      });
      expect(inProd.body.errors?.[0]?.extensions).not.toHaveProperty('serviceName');
    });
  });

  describe('documents nested past any parser', () => {
    const deep = `{ hello(name: ${'['.repeat(5_000)}"x"${']'.repeat(5_000)}) }`;
    const braces = `${'{ profile '.repeat(3_000)}{ handle }${' }'.repeat(3_000)}`;

    it('should tell nesting from strings and comments', () => {
      expect(nestsDeeperThan(deep)).toBe(true);
      expect(nestsDeeperThan(`{ hello(name: "${'{'.repeat(500)}") }`)).toBe(false);
      expect(nestsDeeperThan(`{ hello(name: """${'{'.repeat(500)} \\""" ${'['.repeat(500)}""") }`)).toBe(
        false,
      );
      expect(nestsDeeperThan(`# ${'{'.repeat(500)}\n{ hello }`)).toBe(false);
    });

    it('should answer a plain bad request, without an engine message, on HTTP and WebSocket', async () => {
      const before = stub.requests();
      for (const query of [deep, braces]) {
        const { status, body } = await postGraphQL(dev.url, query);
        expect(status).toBe(400);
        expect(body.errors).toEqual([
          { message: 'The document nests more than 100 brackets deep.', extensions: { code: 'BAD_REQUEST' } },
        ]);
        const overWs = (await wsRun(dev.url, query)).error as { message: string; extensions: unknown }[];
        expect(overWs).toEqual([
          { message: 'The document nests more than 100 brackets deep.', extensions: { code: 'BAD_REQUEST' } },
        ]);
      }
      expect(stub.requests()).toBe(before);
      expect((await postGraphQL(dev.url, '{ hello }')).body.data).toEqual({ hello: 'hello you' });
    });
  });

  describe('trusted documents', () => {
    it('should serve listed operations, in full (cache __typename added or not) or by id', async () => {
      const full = await postGraphQL(listed.url, LISTED, { name: 'Ann' });
      expect(full.body).toEqual({ data: { hello: 'hello Ann' } });
      const reformatted = await postGraphQL(
        listed.url,
        'query Hello($name:String){hello(name:$name) __typename}',
        {
          name: 'Bo',
        },
      );
      expect(reformatted.body.data).toMatchObject({ hello: 'hello Bo' });
      const id = createHash('sha256')
        .update(print(parse(LISTED)))
        .digest('hex');
      const byId = await fetch(listed.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          variables: { name: 'Cy' },
          extensions: { persistedQuery: { version: 1, sha256Hash: id } },
        }),
      });
      expect(await byId.json()).toEqual({ data: { hello: 'hello Cy' } });
    });

    it('should refuse anything else before a subgraph is called, over POST, GET and WebSocket', async () => {
      const before = stub.requests();
      const post = await postGraphQL(listed.url, '{ profile { email } }');
      expect(post.status).toBe(400);
      expect(post.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      const get = await fetch(`${listed.url}?query=${encodeURIComponent('{ hello }')}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(get.status).toBe(400);
      expect(
        ((await get.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
      ).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      const overWs = (await wsRun(listed.url, '{ profile { email } }')).error as {
        extensions: { code: string };
      }[];
      expect(overWs[0]?.extensions.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      // An unknown hash alone is only not found (the client may then send the document).
      const unknown = await fetch(listed.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } }),
      });
      expect(
        ((await unknown.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
      ).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(stub.requests()).toBe(before);
    });
  });
});
