import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createTokenIssuer } from '@fitness/auth';
import { createLogger } from '@fitness/server-kit';
import { bearer, logLines, postGraphQL } from '@fitness/testing';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { costDirectivesOf, estimateCost } from '../src/demandControl.js';
import { type RunningRouter, startRouter } from '../src/server.js';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const SUPERGRAPH = path('../../schema/supergraph.graphql');
const apiSchema = buildSchema(readFileSync(path('../../schema/api.graphql'), 'utf8'));
const directives = costDirectivesOf(readFileSync(SUPERGRAPH, 'utf8'));
const MAX = 2_000;

// Warnings kept: each over-limit line must name its request.
const { stream, lines } = logLines();
const logger = createLogger('demand-control-test', 'warn', 'json', stream);
const REFUSED_LINE = 'operation refused: estimated cost over the limit';
const SECRET = 'demand-control-test-secret-long-enough';
const issue = createTokenIssuer({
  secret: SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
  ttlSeconds: 600,
});

// Three levels of 30 workouts, each back to its user: 27,000 nodes, depth 13, no alias.
const AMPLIFICATION = `{ me { workouts(first: 30) { edges { node { user {
  workouts(first: 30) { edges { node { user {
    workouts(first: 30) { edges { node { id } } } } } } } } } } } } }`;
const LEADERBOARDS = (n: number) =>
  `{ ${Array.from(
    { length: n },
    (_, i) =>
      `b${i}: leaderboard(board: { metric: VOLUME_KG, period: WEEK, first: 100 }) { entries { score user { handle } } }`,
  ).join(' ')} }`;

/** Valid inputs for the operations that need them, so they reach the subgraphs. */
const INPUTS: Record<string, Record<string, unknown>> = {
  DeleteAccount: { password: 'correct horse battery' },
  DeleteWorkout: { id: '00000000-0000-4000-8000-000000000000' },
  LogWorkout: {
    input: {
      id: '00000000-0000-4000-8000-000000000001',
      sport: 'RUN',
      startedAt: '2026-11-30T10:00:00Z',
      durationSec: 60,
    },
  },
  SignIn: { input: { email: 'a@example.com', password: 'correct horse battery' } },
  SignUp: {
    input: { email: 'a@example.com', password: 'correct horse battery', handle: 'ann', displayName: 'Ann' },
  },
  StartMembership: {
    input: { planId: 'premium-monthly-eur', paymentMethodToken: 'tok_visa', idempotencyKey: 'k' },
  },
  UserByHandle: { handle: 'ann' },
};

/** Every operation in schema/operations, with the largest variables a client may send. */
function shippedOperations() {
  const dir = path('../../schema/operations');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .map((file) => {
      const document = parse(readFileSync(`${dir}/${file}`, 'utf8'));
      const operation = getOperationAST(document)!;
      const variables: Record<string, unknown> = {};
      for (const v of operation.variableDefinitions ?? []) {
        const type = v.type.kind === 'NonNullType' ? v.type.type : v.type;
        if (type.kind === 'NamedType' && type.name.value === 'Int') variables[v.variable.name.value] = 100;
        if (type.kind === 'NamedType' && type.name.value === 'LeaderboardInput') {
          variables[v.variable.name.value] = { metric: 'VOLUME_KG', period: 'WEEK', first: 100 };
        }
      }
      const name = operation.name?.value;
      return { file, document, name, variables: { ...variables, ...(name ? INPUTS[name] : {}) } };
    });
}

describe('cost estimates', () => {
  it('should price the Dashboard as the README explains', () => {
    const dashboard = shippedOperations().find((o) => o.name === 'Dashboard')!;
    // me 1 + workouts(first: 5) (1 + 5 edges x (1 + node 1)) + recommendations(first: 3)
    // (@cost 5 + 3 x 1) + plans (@listSize 10 x 1).
    expect(estimateCost(apiSchema, dashboard.document, 'Dashboard', {}, directives)).toBe(1 + 11 + 8 + 10);
  });

  it('should leave every shipped operation, at its largest, far below the default limit', () => {
    for (const op of shippedOperations()) {
      const cost = estimateCost(apiSchema, op.document, op.name, op.variables, directives);
      expect(cost, op.file).toBeLessThanOrEqual(MAX / 5);
    }
  });

  it('should price the amplification query and 25 aliased leaderboards far over it', () => {
    expect(estimateCost(apiSchema, parse(AMPLIFICATION), undefined, {}, directives)).toBe(57_722);
    expect(estimateCost(apiSchema, parse(LEADERBOARDS(25)), undefined, {}, directives)).toBe(25 * 201);
  });

  it('should read slicing arguments from literals, variables and defaults', () => {
    const doc = parse('query ($n: Int) { me { workouts(first: $n) { edges { node { id } } } } }');
    const at = (variables: Record<string, unknown>) =>
      estimateCost(apiSchema, doc, undefined, variables, directives);
    expect(at({ n: 50 })).toBe(1 + 1 + 50 * 2);
    expect(at({})).toBe(1 + 1 + 20 * 2); // the argument's default, 20
    const literal = parse('{ me { workouts(first: 3) { edges { node { id } } } } }');
    expect(estimateCost(apiSchema, literal, undefined, {}, directives)).toBe(1 + 1 + 3 * 2);
  });

  it('should cost a doubling chain of fragments in linear time, at its full size', () => {
    const chain = Array.from(
      { length: 40 },
      (_, i) => `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`,
    );
    const doc = parse(
      `{ me { ...F0 } } ${chain.join(' ')} fragment F40 on User { workouts { edges { node { id } } } }`,
    );
    // 2^40 copies of a 41-point selection: refused, and computed at once.
    expect(estimateCost(apiSchema, doc, undefined, {}, directives)).toBe(1 + 2 ** 40 * 41);
  });
});

/** Stand-ins for the four subgraphs: they count requests and answer nothing useful. */
async function countingSubgraph() {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    calls += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ data: null, errors: [{ message: 'stub', extensions: { code: 'BAD_USER_INPUT' } }] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    calls: () => calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('demand control through the router', () => {
  const subgraphs: Record<string, Awaited<ReturnType<typeof countingSubgraph>>> = {};
  let router: RunningRouter;
  let measuring: RunningRouter;
  let token: string;
  const calls = () => Object.values(subgraphs).reduce((sum, s) => sum + s.calls(), 0);

  beforeAll(async () => {
    for (const name of ['users', 'workouts', 'payments', 'recommendations'])
      subgraphs[name] = await countingSubgraph();
    const env = {
      PORT: '0',
      SUPERGRAPH_PATH: SUPERGRAPH,
      JWT_SECRET: SECRET,
      ...Object.fromEntries(
        Object.entries(subgraphs).map(([n, s]) => [`SUBGRAPH_${n.toUpperCase()}_URL`, s.url]),
      ),
    };
    router = await startRouter(loadConfig(env), logger);
    measuring = await startRouter(loadConfig({ ...env, DEMAND_CONTROL_MODE: 'measure' }), logger);
    ({ token } = await issue({ userId: 'u1', region: 'EU' }));
  });

  afterAll(async () => {
    await router?.stop();
    await measuring?.stop();
    for (const s of Object.values(subgraphs)) await s.stop();
  });

  const expectRefused = (errors: readonly { extensions?: Record<string, unknown> }[] | undefined) => {
    expect(errors?.[0]?.extensions?.code).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    expect(errors?.[0]?.extensions?.cost).toEqual({ estimated: expect.any(Number), max: MAX });
  };

  it('should refuse the amplification query and 25 aliased leaderboards over HTTP before any subgraph is called', async () => {
    const before = calls();
    const nested = await postGraphQL(router.url, AMPLIFICATION, {}, bearer(token));
    expect(nested.status).toBe(400);
    expectRefused(nested.body.errors);
    expect(nested.body.errors?.[0]?.extensions?.cost).toEqual({ estimated: 57_722, max: MAX });
    const anonymous = await postGraphQL(router.url, LEADERBOARDS(25));
    expect(anonymous.status).toBe(400);
    expectRefused(anonymous.body.errors);
    expect(calls()).toBe(before);
  });

  it('should pass every shipped operation on to the subgraphs', async () => {
    for (const op of shippedOperations()) {
      if (getOperationAST(op.document)?.operation === 'subscription') continue;
      const before = calls();
      const { body } = await postGraphQL(
        router.url,
        readFileSync(path(`../../schema/operations/${op.file}`), 'utf8'),
        op.variables,
        bearer(token),
      );
      expect(body.errors?.map((e) => e.extensions?.code) ?? [], op.file).not.toContain(
        'COST_ESTIMATED_TOO_EXPENSIVE',
      );
      expect(calls(), op.file).toBeGreaterThan(before);
    }
  });

  it('should refuse over graphql-ws (queries and subscriptions) and multipart HTTP alike', async () => {
    const before = calls();
    const linesBefore = lines.length;
    const client = createClient({
      url: router.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const run = (query: string) =>
      new Promise<unknown>((resolve) => {
        client.subscribe({ query }, { next: resolve, error: resolve, complete: () => resolve('complete') });
      });
    try {
      expectRefused((await run(AMPLIFICATION)) as { extensions?: Record<string, unknown> }[]);
      const heavy = `subscription { leaderboardUpdated(board: { metric: VOLUME_KG, period: WEEK, first: 100 }) {
        entries { user { workouts(first: 100) { edges { node { sets { exercise { id } } } } } } } } }`;
      expectRefused((await run(heavy)) as { extensions?: Record<string, unknown> }[]);
      const multipart = await fetch(router.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0"' },
        body: JSON.stringify({ query: heavy }),
      });
      const text = await multipart.text();
      expect(text).toContain('"COST_ESTIMATED_TOO_EXPENSIVE"');
    } finally {
      await client.dispose();
    }
    expect(calls()).toBe(before);
    // Each refusal's line names its request: the graphql-ws query's own, the
    // subscriptions' the subscribing request's (the connection's, the HTTP request's).
    const refused = lines.slice(linesBefore).filter((line) => line.msg === REFUSED_LINE);
    expect(refused).toHaveLength(3);
    for (const line of refused) expect(line.requestId).toEqual(expect.any(String));
  });

  it('should serve over-limit operations in measure mode, and count every estimate', async () => {
    const before = calls();
    const { body } = await postGraphQL(measuring.url, LEADERBOARDS(25));
    expect(body.errors?.map((e) => e.extensions?.code)).not.toContain('COST_ESTIMATED_TOO_EXPENSIVE');
    expect(calls()).toBeGreaterThan(before);
    const metrics = await (await fetch(router.url.replace('/graphql', '/metrics'))).text();
    expect(metrics).toMatch(/router_operation_estimated_cost_count \d+/);
    expect(metrics).toMatch(/router_operations_refused_cost_total [1-9]/);
  });
});
