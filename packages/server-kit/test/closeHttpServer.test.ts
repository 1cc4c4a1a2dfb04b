import { Agent, type IncomingMessage, request } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttpServer, createHttpApp, createLogger, listen } from '../src/index.js';

/**
 * A stopping service must not keep a connection that was busy when it began to stop:
 * its response says `Connection: close` (or, already under way, the connection closes
 * once it is written), so the stop does not wait for the grace period to cut it.
 */
describe('closeHttpServer', () => {
  const logger = createLogger('close-test', 'silent');
  const apollo = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', logger });
  beforeAll(() => apollo.start());
  afterAll(() => apollo.stop());

  /** A service whose GET /slow answers when `release` is called, GET /stream writes its head first. */
  async function start() {
    const releases: (() => void)[] = [];
    const server = createHttpApp({
      logger,
      apollo,
      authenticate: async () => ({}),
      context: () => ({}),
      ready: () => true,
      routes: {
        'GET /slow': (_req, res) =>
          new Promise<void>((resolve) => {
            releases.push(() => {
              res.end('slow done');
              resolve();
            });
          }),
        'GET /stream': (_req, res) =>
          new Promise<void>((resolve) => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.write('first ');
            releases.push(() => {
              res.end('last');
              resolve();
            });
          }),
        'GET /quick': (_req, res) => {
          res.end('quick');
        },
      },
    });
    const port = await listen(server, 0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const get = (path: string) =>
      new Promise<{ res: IncomingMessage; body: Promise<string>; socketClosed: Promise<void> }>(
        (resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
            const socket = res.socket;
            const socketClosed = new Promise<void>((done) => socket.once('close', () => done()));
            const body = new Promise<string>((done, fail) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk) => {
                text += chunk;
              });
              res.on('end', () => done(text));
              res.on('error', fail);
            });
            resolve({ res, body, socketClosed });
          });
          req.on('error', reject);
          req.end();
        },
      );
    const released = async (count: number) => {
      while (releases.length < count) await new Promise((r) => setTimeout(r, 5));
    };
    return { server, agent, get, releases, released };
  }

  it('should answer a request busy at the close with Connection: close and end its connection without waiting for the grace period', async () => {
    const { server, agent, get, releases, released } = await start();
    try {
      const pending = get('/slow');
      await released(1);
      // A grace period far longer than the test's own timeout: only the response ends the stop.
      const closed = closeHttpServer(server, 600_000);
      releases[0]!();
      const { res, body, socketClosed } = await pending;
      expect(res.headers.connection).toBe('close');
      expect(await body).toBe('slow done');
      await socketClosed;
      await closed;
      expect(server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });

  it('should end a connection whose response was already under way at the close once it is written', async () => {
    const { server, agent, get, releases, released } = await start();
    try {
      const pending = get('/stream');
      await released(1);
      const { res, body, socketClosed } = await pending;
      // Its head went out before the stop, with keep-alive.
      expect(res.headers.connection).toBe('keep-alive');
      const closed = closeHttpServer(server, 600_000);
      releases[0]!();
      expect(await body).toBe('first last');
      await socketClosed;
      await closed;
    } finally {
      agent.destroy();
    }
  });

  it('should close idle keep-alive connections at once and refuse new ones', async () => {
    const { server, agent, get } = await start();
    try {
      const first = await get('/quick');
      expect(first.res.headers.connection).toBe('keep-alive');
      expect(await first.body).toBe('quick');
      await closeHttpServer(server, 600_000);
      await first.socketClosed;
      await expect(get('/quick')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
    }
  });
});
