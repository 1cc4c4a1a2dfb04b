/**
 * The four stub subgraphs of the gateway benchmark in one process (its own core, so
 * that none of their CPU is counted as a gateway's): accounts, inventory, products and
 * reviews on one port, each under its own path. Each answer is computed once by a
 * federation subgraph schema and then served from memory for the same request body:
 * gateways send the same few documents and representations over and over, and the
 * stubs must stay far cheaper than the gateway they feed.
 *
 * Prints `{"url":"http://127.0.0.1:PORT"}` when listening. GET /stats answers the
 * number of GraphQL requests each subgraph has served, and all of them per second.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type DocumentNode, execute, type GraphQLSchema, parse } from 'graphql';
import { SUBGRAPH_NAMES, type SubgraphName, sdlPath } from './benchSupergraph.js';
import {
  AUTHOR_ID,
  AUTHOR_USERNAME,
  PRODUCTS,
  REVIEWS,
  type Review,
  reviewsOfProduct,
  reviewsOfUser,
  USERS,
} from './data.js';

type Resolvers = NonNullable<
  Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']
>;
type Ref = Record<string, unknown>;
const userById = (id: unknown) => USERS.find((u) => u.id === id) ?? null;
const productByUpc = (upc: unknown) => PRODUCTS.find((p) => p.upc === upc) ?? null;
const reviewView = (r: Review) => ({ id: r.id, body: r.body, product: { upc: r.productUpc } });

const resolvers: Record<SubgraphName, Resolvers> = {
  accounts: {
    Query: {
      me: () => userById(AUTHOR_ID),
      user: (_: unknown, args: { id: string }) => userById(args.id),
      users: () => USERS,
    },
    User: { __resolveReference: (ref: Ref) => userById(ref.id) },
  },
  inventory: {
    Product: {
      __resolveReference: (ref: Ref) => {
        const product = productByUpc(ref.upc);
        return product && { upc: product.upc, inStock: product.inStock };
      },
      // As the public benchmark answers (see query.ts): null, whatever price and weight.
      shippingEstimate: () => null,
    },
  },
  products: {
    Query: { topProducts: (_: unknown, args: { first?: number }) => PRODUCTS.slice(0, args.first ?? 5) },
    Product: { __resolveReference: (ref: Ref) => productByUpc(ref.upc) },
  },
  reviews: {
    Review: {
      __resolveReference: (ref: Ref) => {
        const review = REVIEWS.find((r) => r.id === ref.id);
        return review ? reviewView(review) : null;
      },
      author: () => ({ id: AUTHOR_ID, username: AUTHOR_USERNAME }),
    },
    User: {
      __resolveReference: (ref: Ref) => ({ id: ref.id }),
      reviews: () => reviewsOfUser().map(reviewView),
    },
    Product: {
      __resolveReference: (ref: Ref) => ({ upc: ref.upc }),
      reviews: (product: { upc: string }) => reviewsOfProduct(product.upc).map(reviewView),
    },
  },
};

function schemaOf(name: SubgraphName): GraphQLSchema {
  return buildSubgraphSchema({
    typeDefs: parse(readFileSync(sdlPath(name), 'utf8')),
    resolvers: resolvers[name],
  });
}

const MAX_MEMO = 10_000;

const schemas = new Map(SUBGRAPH_NAMES.map((name) => [`/${name}`, schemaOf(name)]));
const counts: Record<string, number> = Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, 0]));
// Requests per wall-clock second (all subgraphs), so that the benchmark can count the
// fetches of exactly the seconds it measures, away from the start and end of a run.
const perSecond = new Map<number, number>();
const documents = new Map<string, DocumentNode>();
const memo = new Map<string, Buffer>();

const answer = async (path: string, schema: GraphQLSchema, body: string): Promise<Buffer> => {
  const key = `${path} ${body}`;
  const known = memo.get(key);
  if (known) return known;
  const request = JSON.parse(body) as {
    query: string;
    variables?: Record<string, unknown>;
    operationName?: string;
  };
  let document = documents.get(request.query);
  if (!document) {
    document = parse(request.query);
    documents.set(request.query, document);
  }
  const result = await execute({
    schema,
    document,
    variableValues: request.variables ?? {},
    operationName: request.operationName ?? null,
  });
  const bytes = Buffer.from(JSON.stringify(result));
  // Errors are never remembered: a broken request should stay visible as such.
  if (!result.errors) {
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(key, bytes);
  }
  return bytes;
};

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = (req.url ?? '/').split('?')[0]!;
  if (req.method === 'GET' && path === '/stats') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ counts, perSecond: Object.fromEntries(perSecond) }));
    return;
  }
  const schema = schemas.get(path);
  if (req.method !== 'POST' || !schema) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    counts[path.slice(1)]! += 1;
    const second = Math.floor(Date.now() / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    perSecond.delete(second - 600);
    answer(path, schema, Buffer.concat(chunks).toString('utf8')).then(
      (bytes) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
        res.end(bytes);
      },
      (error: Error) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: error.message }] }));
      },
    );
  });
});
// Gateways keep their connections to subgraphs; closing them would measure reconnects.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
process.on('SIGTERM', () => process.exit(0));
