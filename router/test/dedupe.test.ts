import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenIssuer } from '@fitness/auth';
import { createLogger } from '@fitness/server-kit';
import { bearer, postGraphQL } from '@fitness/testing';
import { composeSupergraph } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSubgraph } from './stubSubgraph.js';

const quiet = createLogger('dedupe-test', 'silent');
const SECRET = 'dedupe-test-secret-that-is-long-enough';
const issue = createTokenIssuer({
  secret: SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
  ttlSeconds: 600,
});
const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { slow(tag: String): String, whoami: String }
  type Mutation { bump: Int }
`;

/** A subgraph whose answers take 500 ms, so concurrent requests overlap; it counts them. */
async function startSlowSubgraph() {
  let bumps = 0;
  const sleep = () => new Promise((r) => setTimeout(r, 500));
  return startStubSubgraph(SDL, {
    Query: {
      slow: async (_: unknown, { tag }: { tag?: string }) => {
        await sleep();
        return `slow ${tag ?? ''}`;
      },
      whoami: async (_: unknown, __: unknown, ctx: { auth: string | undefined }) => {
        await sleep();
        return ctx.auth?.slice(-8) ?? 'anonymous';
      },
    },
    Mutation: {
      bump: async () => {
        await sleep();
        bumps += 1;
        return bumps;
      },
    },
  });
}

/** The slow subgraph and a supergraph of it alone, in a temporary directory. */
async function slowSupergraph(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const subgraph = await startSlowSubgraph();
  const schemaPath = join(dir, 'slow.graphql');
  writeFileSync(schemaPath, SDL);
  const supergraphPath = join(dir, 'supergraph.graphql');
  writeFileSync(
    supergraphPath,
    composeSupergraph([{ name: 'slow', routingUrl: subgraph.url, schemaPath }]).supergraphSdl,
  );
  return { dir, subgraph, supergraphPath };
}

describe('subgraph request sharing', () => {
  let dir: string;
  let subgraph: Awaited<ReturnType<typeof startSlowSubgraph>>;
  let sharing: RunningRouter;
  let plain: RunningRouter;

  beforeAll(async () => {
    let supergraphPath: string;
    ({ dir, subgraph, supergraphPath } = await slowSupergraph('router-dedupe-'));
    const env = { PORT: '0', SUPERGRAPH_PATH: supergraphPath, JWT_SECRET: SECRET };
    sharing = await startRouter(loadConfig(env), quiet);
    plain = await startRouter(loadConfig({ ...env, SUBGRAPH_DEDUP: 'false' }), quiet);
  });

  afterAll(async () => {
    await sharing?.stop();
    await plain?.stop();
    await subgraph?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const burst = async (
    router: RunningRouter,
    query: string,
    headers: () => Record<string, string> = () => ({}),
  ) => {
    const before = subgraph.requests();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postGraphQL(router.url, query, {}, headers())),
    );
    return { answers, requests: subgraph.requests() - before };
  };

  it('should send one request for 20 identical queries in flight, each answered in full', async () => {
    const { answers, requests } = await burst(sharing, '{ slow(tag: "a") }');
    // One, unless a very busy machine let the first answer come back before the last
    // query was planned.
    expect(requests).toBeLessThanOrEqual(2);
    for (const a of answers) expect(a.body).toEqual({ data: { slow: 'slow a' } });
    const metrics = await (await fetch(sharing.url.replace('/graphql', '/metrics'))).text();
    const shared = Number(/router_subgraph_fetches_shared_total (\d+)/.exec(metrics)?.[1]);
    expect(shared).toBe(20 - requests);
  });

  it('should not share between different documents, variables or callers', async () => {
    let i = 0;
    const tags = await Promise.all(
      Array.from({ length: 5 }, (_, n) => postGraphQL(sharing.url, `{ slow(tag: "t${n}") }`)),
    );
    expect(tags.map((t) => t.body.data)).toEqual([0, 1, 2, 3, 4].map((n) => ({ slow: `slow t${n}` })));
    const tokens = await Promise.all(
      [1, 2, 3].map(async (n) => (await issue({ userId: `user-${n}`, region: 'EU' })).token),
    );
    const { answers, requests } = await burst(sharing, '{ whoami }', () => bearer(tokens[i++ % 3]!));
    expect(requests).toBeGreaterThanOrEqual(3);
    expect(requests).toBeLessThanOrEqual(6);
    for (const [n, a] of answers.entries()) {
      expect((a.body.data as { whoami: string }).whoami).toBe(tokens[n % 3]!.slice(-8));
    }
  });

  it('should never share mutations', async () => {
    const { answers, requests } = await burst(sharing, 'mutation { bump }');
    expect(requests).toBe(20);
    expect(new Set(answers.map((a) => (a.body.data as { bump: number }).bump)).size).toBe(20);
  });

  it('should send every request with SUBGRAPH_DEDUP=false', async () => {
    const { requests } = await burst(plain, '{ slow(tag: "b") }');
    expect(requests).toBe(20);
  });
});

describe('inbound operation sharing (INBOUND_DEDUP=true)', () => {
  let dir: string;
  let subgraph: Awaited<ReturnType<typeof startSlowSubgraph>>;
  let router: RunningRouter;

  beforeAll(async () => {
    let supergraphPath: string;
    ({ dir, subgraph, supergraphPath } = await slowSupergraph('router-inbound-dedupe-'));
    // Subgraph sharing off, so that every saved request is the inbound sharing's.
    router = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: supergraphPath,
        JWT_SECRET: SECRET,
        INBOUND_DEDUP: 'true',
        SUBGRAPH_DEDUP: 'false',
        ROUTER_EXECUTOR: 'router',
      }),
      quiet,
    );
  });

  afterAll(async () => {
    await router?.stop();
    await subgraph?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const burst = async (query: string, headers: (n: number) => Record<string, string> = () => ({})) => {
    const before = subgraph.requests();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, n) => postGraphQL(router.url, query, {}, headers(n))),
    );
    return { answers, requests: subgraph.requests() - before };
  };

  it('should run identical queries in flight once, each caller answered in full', async () => {
    const { answers, requests } = await burst('{ slow(tag: "in") }');
    expect(requests).toBeLessThanOrEqual(2);
    for (const a of answers) expect(a.body).toEqual({ data: { slow: 'slow in' } });
  });

  it('should keep callers with different tokens apart, and never share mutations', async () => {
    const tokens = await Promise.all(
      [1, 2, 3].map(async (n) => (await issue({ userId: `inbound-${n}`, region: 'EU' })).token),
    );
    const { answers, requests } = await burst('{ whoami }', (n) => bearer(tokens[n % 3]!));
    expect(requests).toBeGreaterThanOrEqual(3);
    for (const [n, a] of answers.entries()) {
      expect((a.body.data as { whoami: string }).whoami).toBe(tokens[n % 3]!.slice(-8));
    }
    const bumps = await burst('mutation { bump }');
    expect(bumps.requests).toBe(12);
    expect(new Set(bumps.answers.map((a) => (a.body.data as { bump: number }).bump)).size).toBe(12);
  });
});
