import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenIssuer, MemoryRevocationList, RedisRevocationList } from '@fitness/auth';
import { createLogger, listen } from '@fitness/server-kit';
import { bearer, postGraphQL, realService } from '@fitness/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { serveWebSockets } from '../src/subscriptions/wsServer.js';
import { startLiveSubgraph, startPlayersSubgraph, writeStubSupergraph } from './subscriptionStubs.js';

const logger = createLogger('revocation-test', 'silent');
const SECRET = 'revocation-test-secret-that-is-long-enough';
const issue = createTokenIssuer({
  secret: SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
  ttlSeconds: 600,
});
const redisUrl = realService('redis', 'router token revocation');

/** A graphql-transport-ws socket past connection_ack, and how it closes. */
async function connect(url: string, token: string) {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve) => ws.once('open', resolve));
  const acked = new Promise((resolve) =>
    ws.on('message', (data) => JSON.parse(data.toString()).type === 'connection_ack' && resolve(true)),
  );
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await Promise.race([acked, closed]);
  return { ws, closed };
}

describe.skipIf(!redisUrl)('token revocation in the router (Redis)', () => {
  let dir: string;
  let live: Awaited<ReturnType<typeof startLiveSubgraph>>;
  let players: Awaited<ReturnType<typeof startPlayersSubgraph>>;
  let router: RunningRouter;
  // Another process's handle on the same list, as users revokes through it.
  const users = new RedisRevocationList(new Redis(redisUrl!, { maxRetriesPerRequest: 1 }), { logger });
  const stamp = Date.now().toString(36);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revocation-'));
    live = await startLiveSubgraph();
    players = await startPlayersSubgraph();
    router = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: writeStubSupergraph(dir, { live: live.url, players: players.url }),
        JWT_SECRET: SECRET,
        REDIS_URL: redisUrl,
      }),
      logger,
    );
  });
  afterAll(async () => {
    await router?.stop();
    await live?.stop();
    await players?.stop();
    await users.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = (token: string) => postGraphQL(router.url, '{ liveVersion }', {}, bearer(token));

  it('should answer 401 UNAUTHENTICATED for a revoked token at once, and serve a token issued after the cutoff', async () => {
    const userId = `gone-${stamp}`;
    const { token, expiresAt } = await issue(userId);
    expect((await query(token)).status).toBe(200);
    await users.revoke({ userId, issuedBefore: new Date(), until: expiresAt });
    const refused = await query(token);
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(refused.body.errors?.[0]?.message).toBe('Token has been revoked.');
    const fresh = await issue(userId, new Date(Date.now() + 5));
    expect((await query(fresh.token)).status).toBe(200);
  });

  it('should close the graphql-ws sockets of a revoked token with 4403, and only those', async () => {
    const userId = `ws-${stamp}`;
    const { token, expiresAt } = await issue(userId);
    const other = await issue(`other-${stamp}`);
    const wsUrl = router.url.replace('http', 'ws');
    const mine = await connect(wsUrl, token);
    const theirs = await connect(wsUrl, other.token);
    await users.revoke({ userId, issuedBefore: null, until: expiresAt });
    expect(await mine.closed).toEqual({ code: 4403, reason: 'Token has been revoked.' });
    // A new connection with the token is refused at connection_init.
    const again = await connect(wsUrl, token);
    expect(await again.closed).toMatchObject({ code: 4403 });
    // The other user's socket heard the same revocation and is still served.
    const pong = new Promise((resolve) =>
      theirs.ws.on('message', (data) => JSON.parse(data.toString()).type === 'pong' && resolve(true)),
    );
    theirs.ws.send(JSON.stringify({ type: 'ping' }));
    expect(await pong).toBe(true);
    theirs.ws.close();
  });
});

describe('graphql-ws revocation while connection_init is being checked', () => {
  it('should close with 4403 a connection whose token was revoked while it was being verified', async () => {
    const revocations = new MemoryRevocationList();
    let verified: (auth: { userId: string }) => void = () => {};
    let checking: () => void = () => {};
    const inCheck = new Promise<void>((done) => (checking = done));
    const server = createServer();
    const ws = serveWebSockets<{ userId: string }>({
      server,
      path: '/graphql',
      logger,
      engine: {} as never,
      // The check of connection_init waits until the test lets it finish.
      authenticate: () =>
        new Promise((done) => {
          verified = done;
          checking();
        }),
      identity: (auth) => ({
        viewer: { userId: auth.userId, region: null },
        authorization: undefined,
        requestId: 'r',
      }),
      execute: async () => ({}),
      revocations: {
        onRevoked: (listener) => revocations.onRevoked(listener),
        refuses: (auth, revocation) => auth.userId === revocation.userId,
      },
    });
    const port = await listen(server, 0, '127.0.0.1');
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()).type));
    await new Promise((done) => socket.once('open', done));
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await inCheck;
    await revocations.revoke({ userId: 'u1', issuedBefore: null, until: new Date(Date.now() + 60_000) });
    verified({ userId: 'u1' });
    expect(await closed).toBe(4403);
    expect(messages).toEqual([]);
    await ws.close();
    server.close();
  });
});
