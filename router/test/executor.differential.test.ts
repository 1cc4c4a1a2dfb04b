/**
 * The router's executor against @apollo/gateway's, on a supergraph written to reach
 * every corner of plan execution: entities three subgraphs deep, nested `@requires`,
 * interfaces (also an `@interfaceObject`, whose plan rewrites typenames), unions,
 * `@inaccessible`, `@skip`/`@include`, aliases and fragments, non-null fields that come
 * back null, subgraph errors inside entity fetches, invalid leaf values, a mutation, and
 * subgraphs that fail (down, HTTP 500, not JSON). Every operation goes through four
 * routers on the same subgraphs: ROUTER_EXECUTOR=gateway (the oracle), =router (with
 * and without SUBGRAPH_FETCH_MERGING), and =compare (both executors on the same
 * subgraph answers). The answers must be equal:
 * data byte for byte, the same errors; compare mode must find no difference.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, listen } from '@fitness/server-kit';
import { composeSupergraph } from '@fitness/tooling';
import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSubgraph } from './stubSubgraph.js';

const FED = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

const ACCOUNTS_SDL = `
  ${FED(['@key', '@inaccessible', '@shareable'])}
  type Query {
    me: User
    users: [User!]!
    user(id: ID!): User
    node(id: ID!): Node
    search(text: String!): [SearchResult!]!
    everyone: [User]!
  }
  type Mutation { rename(id: ID!, name: String!): User }
  enum Role { ADMIN MEMBER OWNER @inaccessible }
  interface Node { id: ID! }
  type User implements Node @key(fields: "id") {
    id: ID!
    name: String!
    username: String
    role: Role
    secret: String @inaccessible
    level: Int
  }
  type Product @key(fields: "upc", resolvable: false) { upc: String! }
  union SearchResult = User | Product
`;

const PRODUCTS_SDL = `
  ${FED(['@key', '@shareable', '@inaccessible'])}
  type Query {
    topProducts(first: Int = 3): [Product!]!
    product(upc: String!): Product
    media: [Media!]!
    catalog: Catalog
  }
  type Product @key(fields: "upc") {
    upc: String!
    name: String
    price: Int!
    weight: Int
    dimensions: Dimensions
    internalCode: String @inaccessible
  }
  type Dimensions @shareable { size: Int, weight: Int }
  interface Media @key(fields: "id") { id: ID!, title: String }
  type Book implements Media @key(fields: "id") { id: ID!, title: String, pages: Int }
  type Movie implements Media @key(fields: "id") { id: ID!, title: String, minutes: Int }
  type Catalog { name: String!, featured: Product! }
`;

const INVENTORY_SDL = `
  ${FED(['@key', '@external', '@requires', '@shareable', '@inaccessible'])}
  type Product @key(fields: "upc") {
    upc: String!
    price: Int! @external
    weight: Int @external
    dimensions: Dimensions @external
    internalCode: String @external
    inStock: Boolean
    shippingEstimate: Int @requires(fields: "price weight dimensions { size }")
    stockRating: Int!
    warehouse: String @requires(fields: "internalCode")
  }
  type Dimensions @shareable { size: Int, weight: Int }
`;

const REVIEWS_SDL = `
  ${FED(['@key', '@interfaceObject'])}
  type Query { latestReviews: [Review!]!, review(id: ID!): Review }
  type Review { id: ID!, body: String!, rating: Int, author: User, product: Product }
  type User @key(fields: "id") { id: ID!, reviews: [Review!]!, reviewCount: Int }
  type Product @key(fields: "upc") { upc: String!, reviews: [Review!]!, topReview: Review! }
  type Media @key(fields: "id") @interfaceObject { id: ID!, likes: Int }
`;

const USERS = [
  { id: 'u1', name: 'Ada', username: 'ada', role: 'ADMIN', secret: 's1', level: 3 },
  { id: 'u2', name: 'Linus', username: 'linus', role: 'MEMBER', secret: 's2', level: 1 },
  // A name the non-null field cannot carry, and a role the enum does not know.
  { id: 'u3', name: null, username: 'ghost', role: 'OWNER', secret: 's3', level: 2 },
];
const PRODUCTS = [
  {
    upc: 'p1',
    name: 'Table',
    price: 899,
    weight: 100,
    dimensions: { size: 3, weight: 100 },
    internalCode: 'T-1',
  },
  {
    upc: 'p2',
    name: 'Couch',
    price: 1299,
    weight: 1000,
    dimensions: { size: 9, weight: 1000 },
    internalCode: 'C-2',
  },
  { upc: 'p3', name: 'Chair', price: 54, weight: 50, dimensions: null, internalCode: 'CH-3' },
  // price "abc" is not an Int.
  { upc: 'p4', name: null, price: 'abc', weight: 5, dimensions: { size: 1, weight: 5 }, internalCode: null },
];
const REVIEWS = [
  { id: 'r1', body: 'Love it', rating: 5, authorId: 'u1', upc: 'p1' },
  { id: 'r2', body: 'Too small', rating: 2, authorId: 'u2', upc: 'p1' },
  { id: 'r3', body: 'Could be better', rating: 3, authorId: 'u1', upc: 'p2' },
  { id: 'r4', body: 'Perfect', rating: 5, authorId: 'u2', upc: 'p3' },
  // Its body throws; its author does not exist anywhere.
  { id: 'r5', body: 'THROW', rating: 1, authorId: 'u9', upc: 'p9' },
  { id: 'r6', body: 'Fine', rating: 4, authorId: 'u3', upc: 'p4' },
];
const MEDIA = [
  { __typename: 'Book', id: 'm1', title: 'Dune', pages: 412 },
  { __typename: 'Movie', id: 'm2', title: 'Alien', minutes: 117 },
];

const byUpc = (upc: string) => PRODUCTS.find((p) => p.upc === upc) ?? null;
const byId = (id: string) => USERS.find((u) => u.id === id) ?? null;

const RESOLVERS = {
  accounts: {
    Query: {
      me: () => USERS[0],
      users: () => USERS.slice(0, 2),
      user: (_: unknown, { id }: { id: string }) => byId(id),
      node: (_: unknown, { id }: { id: string }) => byId(id),
      search: (_: unknown, { text }: { text: string }) => [
        ...USERS.filter((u) => u.username.includes(text)),
        ...PRODUCTS.filter((p) => p.upc.includes(text)).map((p) => ({ upc: p.upc })),
      ],
      everyone: () => [...USERS, null],
    },
    Mutation: {
      rename: (_: unknown, { id, name }: { id: string; name: string }) => {
        const user = byId(id);
        return user ? { ...user, name } : null;
      },
    },
    Node: { __resolveType: () => 'User' },
    SearchResult: { __resolveType: (v: { upc?: string }) => (v.upc ? 'Product' : 'User') },
    User: { __resolveReference: (ref: { id: string }) => byId(ref.id) },
  },
  products: {
    Query: {
      topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first),
      product: (_: unknown, { upc }: { upc: string }) => byUpc(upc),
      media: () => MEDIA,
      catalog: () => ({ name: 'Spring', featured: null }),
    },
    Product: { __resolveReference: (ref: { upc: string }) => byUpc(ref.upc) },
    Media: {
      __resolveType: (m: { __typename: string }) => m.__typename,
      __resolveReference: (ref: { id: string }) => MEDIA.find((m) => m.id === ref.id) ?? null,
    },
    Book: { __resolveReference: (ref: { id: string }) => MEDIA.find((m) => m.id === ref.id) ?? null },
    Movie: { __resolveReference: (ref: { id: string }) => MEDIA.find((m) => m.id === ref.id) ?? null },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: Record<string, unknown>) => ref,
      inStock: (p: { upc: string }) => p.upc !== 'p2',
      shippingEstimate: (p: { price: number; weight: number; dimensions?: { size?: number } | null }) =>
        p.price > 1000 ? 0 : Math.round(p.weight * 0.5 + (p.dimensions?.size ?? 0)),
      // p3 has no rating: a non-null field that resolves null.
      stockRating: (p: { upc: string }) => (p.upc === 'p3' ? null : p.upc.length),
      warehouse: (p: { internalCode?: string | null }) => (p.internalCode ? `W-${p.internalCode}` : null),
    },
  },
  reviews: {
    Query: {
      latestReviews: () => REVIEWS.slice(-3),
      review: (_: unknown, { id }: { id: string }) => REVIEWS.find((r) => r.id === id) ?? null,
    },
    Review: {
      body: (r: { body: string }) => {
        if (r.body === 'THROW')
          throw new GraphQLError('This review is hidden.', { extensions: { code: 'FORBIDDEN' } });
        return r.body;
      },
      author: (r: { authorId: string }) => ({ __typename: 'User', id: r.authorId }),
      product: (r: { upc: string }) => ({ __typename: 'Product', upc: r.upc }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ref,
      reviews: (u: { id: string }) => REVIEWS.filter((r) => r.authorId === u.id),
      reviewCount: (u: { id: string }) => REVIEWS.filter((r) => r.authorId === u.id).length,
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ref,
      reviews: (p: { upc: string }) => REVIEWS.filter((r) => r.upc === p.upc),
      // p4 has no review: a non-null entity field that resolves null.
      topReview: (p: { upc: string }) => REVIEWS.find((r) => r.upc === p.upc && r.upc !== 'p4') ?? null,
    },
    Media: {
      __resolveReference: (ref: { id: string }) => ref,
      likes: (m: { id: string }) => (m.id === 'm1' ? 10 : 3),
    },
  },
};

/** What every router is asked, by name; each runs against every subgraph state below. */
const OPERATIONS: Record<string, { query: string; variables?: Record<string, unknown> }> = {
  nestedEntities: {
    query: `fragment R on Review { id body rating }
      query Nested { users { id name reviews { ...R product { upc name price inStock shippingEstimate
        reviews { ...R author { id name username reviews { id product { upc name } } } } } } }
      topProducts { upc name price weight inStock shippingEstimate reviews { ...R author { name } } } }`,
  },
  requiresNested: {
    query: `{ topProducts(first: 4) { upc shippingEstimate warehouse dimensions { size } } }`,
  },
  nonNullBubbles: {
    query: `{ topProducts(first: 4) { upc stockRating } }`,
  },
  nonNullEntityBubbles: {
    query: `{ topProducts(first: 4) { upc topReview { id body } } }`,
  },
  nonNullRootBubbles: { query: `{ catalog { name featured { upc } } }` },
  nonNullInList: { query: `{ everyone { id name } }` },
  entityErrors: {
    query: `{ latestReviews { id body author { id name username } product { upc name price } } }`,
  },
  // Errors the router finds itself (no subgraph reports them): an entity no subgraph
  // resolves, under a non-null field; an enum value the API hides.
  completionNull: {
    query: `{ review(id: "r4") { id author { id name } } r5: review(id: "r5") { id author { id name } } }`,
  },
  inaccessibleEnum: { query: `{ user(id: "u3") { id role } me { role } }` },
  invalidLeaves: { query: `{ user(id: "u3") { id role name } product(upc: "p4") { upc price } }` },
  interfaces: {
    query: `{ node(id: "u1") { __typename id ... on User { name reviewCount } } media { __typename id title likes ... on Book { pages } ... on Movie { minutes } } }`,
  },
  unions: {
    query: `query Search($text: String!) { search(text: $text) { __typename ... on User { id name } ... on Product { upc title: name price inStock } } }`,
    variables: { text: 'p' },
  },
  unionsUsers: {
    query: `query Search($text: String!) { search(text: $text) { t: __typename ... on User { id name level } ... on Product { upc } } }`,
    variables: { text: 'a' },
  },
  skipInclude: {
    query: `query Flags($withReviews: Boolean!, $skipName: Boolean = false) {
      me { id name @skip(if: $skipName) ...F @include(if: $withReviews) }
      users { id reviews @include(if: $withReviews) { id } } }
      fragment F on User { reviewCount username }`,
    variables: { withReviews: true },
  },
  skipIncludeOff: {
    query: `query Flags($withReviews: Boolean!, $skipName: Boolean = false) {
      me { id name @skip(if: $skipName) ...F @include(if: $withReviews) }
      users { id reviews @include(if: $withReviews) { id } } }
      fragment F on User { reviewCount username }`,
    variables: { withReviews: false, skipName: true },
  },
  aliases: {
    query: `{ a: user(id: "u1") { who: name n: reviewCount } b: user(id: "u2") { who: name tn: __typename } c: user(id: "nobody") { id } }`,
  },
  typenameOnly: { query: `{ __typename me { __typename } }` },
  badVariables: {
    query: `query One($upc: String!) { product(upc: $upc) { upc } }`,
    variables: { upc: 42 },
  },
  // A root fetch joined to a later entity fetch of its subgraph (joining.ts): one
  // request to reviews for both, its fields under aliases, errors mapped back.
  joinedRoot: {
    query: `query Joined($id: ID!) { me { id name reviewCount } hidden: review(id: "r5") { id body } review(id: $id) { id rating } }`,
    variables: { id: 'r2' },
  },
  // The joined request comes back without data (a non-null root field of the joined
  // fetch is null): both parts are sent again alone.
  // The same root field twice in the root fetch: not joined (aliased apart, the two
  // selections would overwrite each other instead of merging).
  joinedRootRepeated: {
    query: `query Repeated($a: Boolean!) { me { id reviewCount } review(id: "r2") @include(if: $a) { id } review(id: "r2") { rating } }`,
    variables: { a: true },
  },
  joinedRootWithoutData: { query: `{ me { id reviewCount } latestReviews { id body } }` },
  mutation: {
    query: `mutation { first: rename(id: "u1", name: "Ada L.") { id name reviewCount } second: rename(id: "u2", name: "L.") { id name } }`,
  },
};

/** A subgraph that answers HTTP 500, or text that is not JSON. */
async function startBroken(kind: '500' | 'not-json'): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (kind === '500')
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"message":"boom"}]}');
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}/graphql`, server };
}

const SUBGRAPHS = {
  accounts: ACCOUNTS_SDL,
  products: PRODUCTS_SDL,
  inventory: INVENTORY_SDL,
  reviews: REVIEWS_SDL,
};
type Name = keyof typeof SUBGRAPHS;

interface Answer {
  status: number;
  data: string;
  errors: string[];
}

async function ask(url: string, op: { query: string; variables?: Record<string, unknown> }): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: op.query, variables: op.variables ?? {} }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
  return {
    status: res.status,
    data: JSON.stringify(body.data ?? null),
    // Fetches finish in any order, and so errors arrive in any order.
    errors: (body.errors ?? []).map((e) => JSON.stringify(e)).sort(),
  };
}

describe('router executor against the gateway executor (differential)', () => {
  const quiet = createLogger('router', 'silent');
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  /** Per subgraph state: routers in each executor mode. */
  const routers = new Map<string, Record<'gateway' | 'router' | 'unmerged' | 'compare', RunningRouter>>();
  const stubs: Partial<Record<Name, Awaited<ReturnType<typeof startStubSubgraph>>>> = {};

  async function routersFor(state: string, urls: Record<Name, string>) {
    const subgraphs = (Object.keys(SUBGRAPHS) as Name[]).map((name) => {
      const schemaPath = join(dir, `${state}-${name}.graphql`);
      writeFileSync(schemaPath, SUBGRAPHS[name]);
      return { name, routingUrl: urls[name], schemaPath };
    });
    const supergraphPath = join(dir, `${state}-supergraph.graphql`);
    writeFileSync(supergraphPath, composeSupergraph(subgraphs).supergraphSdl);
    const start = (mode: string, merging = 'true') =>
      startRouter(
        loadConfig({
          PORT: '0',
          SUPERGRAPH_PATH: supergraphPath,
          SUBGRAPH_TIMEOUT_MS: '2000',
          ROUTER_EXECUTOR: mode,
          SUBGRAPH_FETCH_MERGING: merging,
          MAX_QUERY_DEPTH: '30',
          MAX_OPERATION_COST: '1000000',
        }),
        quiet,
      );
    const set = {
      gateway: await start('gateway'),
      router: await start('router'),
      unmerged: await start('router', 'false'),
      compare: await start('compare'),
    };
    for (const r of Object.values(set)) stops.push(() => r.stop());
    routers.set(state, set);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'router-differential-'));
    for (const name of Object.keys(SUBGRAPHS) as Name[]) {
      const stub = await startStubSubgraph(SUBGRAPHS[name], RESOLVERS[name]);
      stubs[name] = stub;
      stops.push(() => stub.stop());
    }
    const live = Object.fromEntries(Object.entries(stubs).map(([n, s]) => [n, s!.url])) as Record<
      Name,
      string
    >;
    await routersFor('healthy', live);
    // inventory unreachable: a port nothing listens on (a stopped server's).
    const gone = await startBroken('500');
    const goneUrl = gone.url;
    await new Promise((r) => gone.server.close(r));
    await routersFor('inventory-down', { ...live, inventory: goneUrl });
    const failing = await startBroken('500');
    stops.push(() => new Promise((r) => failing.server.close(() => r())));
    await routersFor('reviews-500', { ...live, reviews: failing.url });
    const html = await startBroken('not-json');
    stops.push(() => new Promise((r) => html.server.close(() => r())));
    await routersFor('accounts-not-json', { ...live, accounts: html.url });
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const state of ['healthy', 'inventory-down', 'reviews-500', 'accounts-not-json']) {
    for (const [name, op] of Object.entries(OPERATIONS)) {
      it(`${state}: ${name} answers the same on both executors`, async () => {
        const set = routers.get(state)!;
        const oracle = await ask(`http://127.0.0.1:${set.gateway.port}/graphql`, op);
        const ours = await ask(`http://127.0.0.1:${set.router.port}/graphql`, op);
        const compared = await ask(`http://127.0.0.1:${set.compare.port}/graphql`, op);
        const unmerged = await ask(`http://127.0.0.1:${set.unmerged.port}/graphql`, op);
        // Each operation reaches execution: nothing refused it before planning.
        expect(oracle.errors.join('\n')).not.toMatch(
          /GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED|COST_ESTIMATED/,
        );
        expect(ours).toEqual(oracle);
        expect(unmerged).toEqual(oracle);
        expect(compared).toEqual(oracle);
        expect(compared.errors.join('\n')).not.toContain('EXECUTOR_MISMATCH');
      });
    }
  }

  it('exercises what it claims: data, errors of each kind, outages', async () => {
    const set = routers.get('healthy')!;
    const url = `http://127.0.0.1:${set.router.port}/graphql`;
    const nested = JSON.parse((await ask(url, OPERATIONS.nestedEntities!)).data);
    expect(nested.users[0].reviews[0].product.shippingEstimate).toBe(53);
    expect(nested.topProducts[0].reviews[0].author.name).toBe('Ada');
    const codes = async (op: string, s = 'healthy') =>
      (await ask(`http://127.0.0.1:${routers.get(s)!.router.port}/graphql`, OPERATIONS[op]!)).errors.map(
        (e) => JSON.parse(e).extensions?.code,
      );
    expect(await codes('nonNullBubbles')).toContain('INTERNAL_SERVER_ERROR');
    expect(await codes('completionNull')).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await codes('inaccessibleEnum')).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(await codes('entityErrors')).toContain('FORBIDDEN');
    expect(await codes('badVariables')).toContain('BAD_USER_INPUT');
    expect(await codes('nestedEntities', 'inventory-down')).toContain('SERVICE_UNAVAILABLE');
    expect(await codes('nestedEntities', 'reviews-500')).toContain('SERVICE_UNAVAILABLE');
    const media = JSON.parse((await ask(url, OPERATIONS.interfaces!)).data);
    expect(media.media.map((m: { likes: number }) => m.likes)).toEqual([10, 3]);
  });

  it('merges sibling entity fetches: fewer subgraph requests than the gateway sends', async () => {
    const set = routers.get('healthy')!;
    const count = async (port: number) => {
      const before = Object.values(stubs).reduce((n, s) => n + s!.requests(), 0);
      await ask(`http://127.0.0.1:${port}/graphql`, OPERATIONS.nestedEntities!);
      return Object.values(stubs).reduce((n, s) => n + s!.requests(), 0) - before;
    };
    const gateway = await count(set.gateway.port);
    const router = await count(set.router.port);
    expect(router).toBeLessThan(gateway);
    // Without merging, the router sends what the plan says, as the gateway does.
    expect(await count(set.unmerged.port)).toBe(gateway);
  });

  it('joins a root fetch to the next fetch of its subgraph, and sends it alone when there is none', async () => {
    const requests = async (state: string, mode: 'gateway' | 'router', op: keyof typeof OPERATIONS) => {
      const before = Object.fromEntries(Object.entries(stubs).map(([n, s]) => [n, s!.requests()]));
      const answer = await ask(`http://127.0.0.1:${routers.get(state)![mode].port}/graphql`, OPERATIONS[op]!);
      const sent = Object.fromEntries(Object.entries(stubs).map(([n, s]) => [n, s!.requests() - before[n]!]));
      return { answer, sent };
    };
    // accounts `me`, then reviews once for `reviewCount` and both root fields.
    const gateway = await requests('healthy', 'gateway', 'joinedRoot');
    const router = await requests('healthy', 'router', 'joinedRoot');
    expect(gateway.sent).toMatchObject({ accounts: 1, reviews: 2 });
    expect(router.sent).toMatchObject({ accounts: 1, reviews: 1 });
    expect(JSON.parse(router.answer.data)).toEqual({
      me: { id: 'u1', name: 'Ada', reviewCount: 2 },
      hidden: null,
      review: { id: 'r2', rating: 2 },
    });
    expect(router.answer.errors.map((e) => JSON.parse(e).path)).toEqual([['hidden', 'body']]);
    // No data in the joined answer: each part again on its own (1 + 2 requests).
    expect((await requests('healthy', 'router', 'joinedRootWithoutData')).sent).toMatchObject({ reviews: 3 });
    // `me` unavailable: nothing to join, the root fetch still goes, alone.
    const alone = await requests('accounts-not-json', 'router', 'joinedRoot');
    expect(alone.sent).toMatchObject({ reviews: 1 });
    expect(JSON.parse(alone.answer.data).review).toEqual({ id: 'r2', rating: 2 });
  });
});
