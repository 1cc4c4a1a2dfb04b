/**
 * The baseline: plain @apollo/gateway with @apollo/server, set up the way its docs
 * show, with nothing of this project's. SUPERGRAPH_PATH and PORT from the environment;
 * prints `{"url":...}` when listening.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(process.env.SUPERGRAPH_PATH!, 'utf8') });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
});
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
