import { writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { closeHttpServer, createHttpApp, createLogger, listen } from '@fitness/server-kit';
import { composeSupergraph } from '@fitness/tooling';
import { parse } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

const logger = createLogger('stub', 'silent');

export const LIVE_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { liveVersion: Int }
  type Subscription { scoreboard(board: String!): Board! }
  type Board { board: String!, version: Int!, entries: [Entry!]! }
  type Entry { rank: Int!, score: Float!, player: Player! }
  type Player @key(fields: "id", resolvable: false) { id: ID! }
`;

export const PLAYERS_SDL = (extra = '') => `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@composeDirective"])
    @link(url: "https://fitness.example/self-only/v0.1", import: ["@selfOnly"])
    @composeDirective(name: "@selfOnly")
  directive @selfOnly(owner: String) on FIELD_DEFINITION
  type Query { player(id: ID!): Player }
  type Player @key(fields: "id") {
    id: ID!
    name: String!
    """The player's own notes."""
    secret: String @selfOnly(owner: "id")
    ${extra}
  }
`;

export interface BoardSnapshot {
  board: string;
  version: number;
  entries: { rank: number; score: number; player: { id: string } }[];
}

/**
 * A subgraph serving `Subscription.scoreboard` over graphql-ws: the first event is
 * the current snapshot, later ones come from `publish`. It counts what the router
 * does to it: open subscriptions, connections and their connection params.
 */
export async function startLiveSubgraph(port = 0) {
  const boards = new Map<string, BoardSnapshot>();
  const listeners = new Map<string, Set<(s: BoardSnapshot) => void>>();
  const stats = {
    activeSubscriptions: 0,
    totalSubscriptions: 0,
    connections: 0,
    connectionParams: [] as unknown[],
  };
  const current = (board: string): BoardSnapshot => boards.get(board) ?? { board, version: 0, entries: [] };

  // An explicit iterator rather than an async generator: a generator parked on an
  // await ignores return() until its next yield, so a completed subscription would
  // never clean up.
  function iterate(board: string): AsyncIterableIterator<BoardSnapshot> {
    const queue: BoardSnapshot[] = [current(board)];
    let wake: ((r: IteratorResult<BoardSnapshot>) => void) | undefined;
    let done = false;
    const listener = (s: BoardSnapshot) => {
      if (wake) {
        const w = wake;
        wake = undefined;
        w({ value: s, done: false });
      } else queue.push(s);
    };
    const set = listeners.get(board) ?? new Set();
    listeners.set(board, set);
    set.add(listener);
    stats.activeSubscriptions += 1;
    stats.totalSubscriptions += 1;
    const finish = (): Promise<IteratorResult<BoardSnapshot>> => {
      if (!done) {
        done = true;
        set.delete(listener);
        stats.activeSubscriptions -= 1;
        wake?.({ value: undefined, done: true });
      }
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next: () => {
        if (done) return Promise.resolve({ value: undefined, done: true });
        const queued = queue.shift();
        if (queued) return Promise.resolve({ value: queued, done: false });
        return new Promise((r) => {
          wake = r;
        });
      },
      return: finish,
      throw: finish,
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  const schema = buildSubgraphSchema({
    typeDefs: parse(LIVE_SDL),
    resolvers: {
      Query: { liveVersion: () => 1 },
      Subscription: {
        scoreboard: {
          subscribe: (_: unknown, args: { board: string }) => iterate(args.board),
          resolve: (payload: BoardSnapshot) => payload,
        },
      },
    } as never,
  });
  const apollo = new ApolloServer({ schema, logger });
  await apollo.start();
  const server: Server = createHttpApp({
    logger,
    apollo,
    authenticate: async () => ({}),
    context: () => ({}),
    ready: async () => true,
  });
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const disposable = useServer(
    {
      schema,
      onConnect: (ctx) => {
        stats.connections += 1;
        stats.connectionParams.push(ctx.connectionParams ?? {});
        return true;
      },
    },
    wss,
  );
  const bound = await listen(server, port, '127.0.0.1');
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}/graphql`,
    stats,
    publish(snapshot: BoardSnapshot) {
      boards.set(snapshot.board, snapshot);
      for (const l of listeners.get(snapshot.board) ?? []) l(snapshot);
    },
    async stop() {
      await disposable.dispose();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await closeHttpServer(server, 100);
      await apollo.stop();
    },
  };
}

/** The subgraph that owns Player; counts `_entities` calls and the headers it got. */
export async function startPlayersSubgraph() {
  const stats = { entityCalls: 0, lastAuthorization: undefined as string | undefined };
  const apollo = new ApolloServer<{ headers: IncomingHttpHeaders }>({
    logger,
    schema: buildSubgraphSchema({
      typeDefs: parse(PLAYERS_SDL()),
      resolvers: {
        Query: { player: (_: unknown, { id }: { id: string }) => ({ id }) },
        Player: {
          __resolveReference: (ref: { id: string }) => ref,
          name: (p: { id: string }) => `Player ${p.id}`,
          secret: (p: { id: string }, _: unknown, ctx: unknown) => {
            const auth = (ctx as { headers: IncomingHttpHeaders }).headers.authorization;
            return auth ? `secret of ${p.id} for ${auth.slice(-6)}` : null;
          },
        },
      } as never,
    }),
  });
  await apollo.start();
  const server: Server = createHttpApp({
    logger,
    apollo,
    authenticate: async (req) => {
      const body = req.headers;
      stats.lastAuthorization = body.authorization;
      return body;
    },
    context: (headers) => ({ headers }),
    ready: async () => true,
  });
  // Count entity fetches by looking at what the router sends.
  server.prependListener('request', (req) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => {
      if (text.includes('_entities')) stats.entityCalls += 1;
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    stats,
    async stop() {
      await closeHttpServer(server, 100);
      await apollo.stop();
    },
  };
}

export function writeStubSupergraph(
  dir: string,
  urls: { live: string; players: string },
  playersExtra = '',
): string {
  writeFileSync(join(dir, 'live.graphql'), LIVE_SDL);
  writeFileSync(join(dir, 'players.graphql'), PLAYERS_SDL(playersExtra));
  const { supergraphSdl } = composeSupergraph([
    { name: 'live', routingUrl: urls.live, schemaPath: join(dir, 'live.graphql') },
    { name: 'players', routingUrl: urls.players, schemaPath: join(dir, 'players.graphql') },
  ]);
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, supergraphSdl);
  return path;
}
