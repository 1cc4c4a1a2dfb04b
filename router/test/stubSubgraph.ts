import type { IncomingMessage, Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { closeHttpServer, createHttpApp, createLogger, listen } from '@fitness/server-kit';
import { parse } from 'graphql';

const quiet = createLogger('stub-subgraph', 'silent');

/**
 * A real subgraph over HTTP for router tests: the SDL and resolvers given, the
 * caller's Authorization in the context as `auth`, and a count of the GraphQL
 * requests it received.
 */
export async function startStubSubgraph(
  sdl: string,
  resolvers: Record<string, unknown>,
  port = 0,
  /** Answer `apollo-federation-include-trace: ftv1` with an inline trace, as real subgraphs do. */
  options: { inlineTrace?: boolean } = {},
) {
  let requests = 0;
  const apollo = new ApolloServer<{ auth: string | undefined }>({
    schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as never }),
    plugins: options.inlineTrace ? [] : [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const server: Server = createHttpApp({
    logger: quiet,
    apollo,
    authenticate: async (req: IncomingMessage) => {
      requests += 1;
      return req.headers.authorization;
    },
    context: (auth) => ({ auth }),
    ready: async () => true,
  });
  const bound = await listen(server, port, '127.0.0.1');
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}/graphql`,
    requests: () => requests,
    async stop() {
      server.closeAllConnections();
      await closeHttpServer(server, 0);
      await apollo.stop();
    },
  };
}
