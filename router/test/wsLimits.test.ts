import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenIssuer } from '@fitness/auth';
import { createLogger } from '@fitness/server-kit';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startLiveSubgraph, startPlayersSubgraph, writeStubSupergraph } from './subscriptionStubs.js';

const logger = createLogger('ws-limits-test', 'silent');
const SECRET = 'ws-limits-test-secret-that-is-long-enough';
const BOARD = 'subscription ($board: String!) { scoreboard(board: $board) { version } }';

/** Opens a raw graphql-transport-ws socket; resolves when it is open or refused. */
function open(url: string): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', () => resolve({}));
  });
}

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );

describe('graphql-ws limits', () => {
  let dir: string;
  let live: Awaited<ReturnType<typeof startLiveSubgraph>>;
  let players: Awaited<ReturnType<typeof startPlayersSubgraph>>;
  let router: RunningRouter;
  let wsUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ws-limits-'));
    live = await startLiveSubgraph();
    players = await startPlayersSubgraph();
    router = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: writeStubSupergraph(dir, { live: live.url, players: players.url }),
        JWT_SECRET: SECRET,
        WS_MAX_CONNECTIONS_PER_ADDRESS: '2',
        WS_CONNECTION_INIT_TIMEOUT_MS: '300',
      }),
      logger,
    );
    wsUrl = router.url.replace('http', 'ws');
  });

  afterAll(async () => {
    await router?.stop();
    await live?.stop();
    await players?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse connections over the per-address cap with 429, and take one again when a slot frees', async () => {
    const first = await open(wsUrl);
    const second = await open(wsUrl);
    expect(first.ws && second.ws).toBeTruthy();
    const third = await open(wsUrl);
    expect(third).toEqual({ status: 429 });
    const gone = closed(first.ws!);
    first.ws!.close();
    await gone;
    // The slot is given back once the server has seen the socket close.
    let again: Awaited<ReturnType<typeof open>> = {};
    for (let i = 0; i < 50 && !again.ws; i += 1) {
      again = await open(wsUrl);
      if (!again.ws) await new Promise((r) => setTimeout(r, 50));
    }
    expect(again.ws).toBeTruthy();
    const both = Promise.all([closed(second.ws!), closed(again.ws!)]);
    second.ws!.close();
    again.ws!.close();
    await both;
    await new Promise((r) => setTimeout(r, 100)); // the server's side of the close
  });

  it('should close a socket that sends no connection_init in time with 4408', async () => {
    const { ws } = await open(wsUrl);
    expect(await closed(ws!)).toMatchObject({ code: 4408 });
  });

  it('should close a socket with 4403 when its token expires, subscriptions and all', async () => {
    const issue = createTokenIssuer({
      secret: SECRET,
      issuer: 'fitness-users',
      audience: 'fitness-api',
      ttlSeconds: 1,
    });
    const { token } = await issue({ userId: 'expiring-user', region: 'EU' });
    const { ws } = await open(wsUrl);
    const messages: { type: string }[] = [];
    ws!.on('message', (data) => messages.push(JSON.parse(data.toString())));
    ws!.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    for (let i = 0; i < 100 && messages.length === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    ws!.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: BOARD, variables: { board: 'weekly' } },
      }),
    );
    const end = await closed(ws!);
    expect(end).toEqual({ code: 4403, reason: 'Token has expired.' });
    expect(messages[0]).toEqual({ type: 'connection_ack' });
    expect(messages.some((m) => m.type === 'next')).toBe(true);
  });

  it('should answer an operation that fails validation with an error message, not next and complete', async () => {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      for (const query of ['{ nope }', 'subscription { nope }']) {
        const outcome = await new Promise<{ next: unknown[]; error?: unknown }>((resolve) => {
          const next: unknown[] = [];
          client.subscribe(
            { query },
            {
              next: (r) => next.push(r),
              error: (error) => resolve({ next, error }),
              complete: () => resolve({ next }),
            },
          );
        });
        expect(outcome.next).toEqual([]);
        expect(outcome.error).toEqual([
          expect.objectContaining({
            extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
          }),
        ]);
      }
    } finally {
      await client.dispose();
    }
  });
});
