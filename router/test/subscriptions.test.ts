import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { createTokenIssuer } from '@fitness/auth';
import { createLogger, DEVELOPMENT_ROUTER_SECRET, ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import { bearer, postGraphQL } from '@fitness/testing';
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startLiveSubgraph, startPlayersSubgraph, writeStubSupergraph } from './subscriptionStubs.js';

const logger = createLogger('subscriptions-test', 'silent');
const SECRET = 'subscriptions-test-secret-long-enough-1';
const issue = createTokenIssuer({
  secret: SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
  ttlSeconds: 600,
});

const BOARD = `subscription ($board: String!) {
  scoreboard(board: $board) { board version entries { rank score player { id name } } }
}`;

interface Collected {
  results: Record<string, unknown>[];
  errors: unknown[];
  completed: boolean;
  dispose: () => void;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function collect(client: Client, query: string, variables: Record<string, unknown>): Collected {
  const collected: Collected = { results: [], errors: [], completed: false, dispose: () => {} };
  collected.dispose = client.subscribe<Record<string, unknown>>(
    { query, variables },
    {
      next: (r) => collected.results.push(r as Record<string, unknown>),
      error: (e) => collected.errors.push(e),
      complete: () => {
        collected.completed = true;
      },
    },
  );
  return collected;
}

const snapshot = (version: number, ids: string[]) => ({
  board: 'weekly',
  version,
  entries: ids.map((id, i) => ({ rank: i + 1, score: 100 - i, player: { id } })),
});

describe('federated subscriptions', () => {
  let dir: string;
  let live: Awaited<ReturnType<typeof startLiveSubgraph>>;
  let players: Awaited<ReturnType<typeof startPlayersSubgraph>>;
  let router: RunningRouter;
  /** A router whose HTTP subscription heartbeat is a minute. */
  let heartbeatRouter: RunningRouter;
  let wsUrl: string;
  const clients: Client[] = [];

  const client = (
    connectionParams: Record<string, unknown> = {},
    extra: Partial<Parameters<typeof createClient>[0]> = {},
  ) => {
    const c = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      lazy: true,
      ...extra,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'subscriptions-test-'));
    live = await startLiveSubgraph();
    players = await startPlayersSubgraph();
    const supergraphPath = writeStubSupergraph(dir, { live: live.url, players: players.url });
    router = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: supergraphPath,
        JWT_SECRET: SECRET,
        MAX_SUBSCRIPTIONS_PER_CONNECTION: '3',
        SUBSCRIPTION_RETRY_ATTEMPTS: '1',
      }),
      logger,
    );
    wsUrl = router.url.replace('http', 'ws');
    heartbeatRouter = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: supergraphPath,
        JWT_SECRET: SECRET,
        SUBSCRIPTION_HEARTBEAT_MS: '60000',
      }),
      logger,
    );
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await waitFor(() => router.engine.stats().subscriptions === 0, 'subscriptions to end');
    await waitFor(() => live.stats.activeSubscriptions === 0, 'upstream subscriptions to end');
  });

  afterAll(async () => {
    await heartbeatRouter?.stop();
    await router?.stop();
    await live?.stop();
    await players?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should share one upstream subscription and one entity fetch per event among many subscribers', async () => {
    live.publish(snapshot(1, ['a', 'b']));
    const subscribers = Array.from({ length: 20 }, (_, i) =>
      collect(client({}, { lazy: i % 2 === 0 }), BOARD, { board: 'weekly' }),
    );
    await waitFor(() => subscribers.every((s) => s.results.length === 1), 'first snapshot everywhere');
    expect(subscribers[0]?.results[0]).toEqual({
      data: {
        scoreboard: {
          board: 'weekly',
          version: 1,
          entries: [
            { rank: 1, score: 100, player: { id: 'a', name: 'Player a' } },
            { rank: 2, score: 99, player: { id: 'b', name: 'Player b' } },
          ],
        },
      },
    });
    expect(live.stats.activeSubscriptions).toBe(1);
    expect(router.engine.stats()).toMatchObject({ subscriptions: 20, groups: 1, upstreams: 1 });

    const before = players.stats.entityCalls;
    live.publish(snapshot(2, ['b', 'c']));
    await waitFor(() => subscribers.every((s) => s.results.length === 2), 'second snapshot everywhere');
    expect(players.stats.entityCalls - before).toBe(1);
    expect(
      (subscribers[7]!.results[1]!.data as { scoreboard: { entries: unknown[] } }).scoreboard.entries[1],
    ).toEqual({
      rank: 2,
      score: 99,
      player: { id: 'c', name: 'Player c' },
    });
  });

  it('should give a late joiner the latest snapshot at once', async () => {
    live.publish(snapshot(3, ['x']));
    const first = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => first.results.length === 1, 'first subscriber');
    const callsBefore = players.stats.entityCalls;
    const late = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => late.results.length === 1, 'late joiner');
    expect(late.results[0]).toEqual(first.results[0]);
    expect(players.stats.entityCalls).toBe(callsBefore); // served from the group's latest result
  });

  it('should complete the upstream subscription when the last subscriber leaves', async () => {
    const a = collect(client(), BOARD, { board: 'leaving' });
    const b = collect(client(), BOARD, { board: 'leaving' });
    await waitFor(() => a.results.length === 1 && b.results.length === 1, 'both subscribed');
    expect(live.stats.activeSubscriptions).toBe(1);
    a.dispose();
    await new Promise((r) => setTimeout(r, 100));
    expect(live.stats.activeSubscriptions).toBe(1);
    b.dispose();
    await waitFor(() => live.stats.activeSubscriptions === 0, 'upstream to complete');
    expect(router.engine.stats().upstreams).toBe(0);
  });

  it('should run viewer-dependent subscriptions per user, with their own credentials', async () => {
    const alice = (await issue('alice')).token;
    const bob = (await issue('bob')).token;
    const query = `subscription { scoreboard(board: "private") { version entries { player { id secret } } } }`;
    live.publish({ board: 'private', version: 1, entries: [{ rank: 1, score: 1, player: { id: 'p1' } }] });
    const a = collect(client({ authorization: `Bearer ${alice}` }), query, {});
    const b = collect(client({ authorization: `Bearer ${bob}` }), query, {});
    await waitFor(() => a.results.length === 1 && b.results.length === 1, 'both users');
    expect(router.engine.stats().groups).toBe(2);
    const secretOf = (c: Collected) =>
      (c.results[0]!.data as { scoreboard: { entries: { player: { secret: string } }[] } }).scoreboard
        .entries[0]?.player.secret;
    expect(secretOf(a)).toBe(`secret of p1 for ${alice.slice(-6)}`);
    expect(secretOf(b)).toBe(`secret of p1 for ${bob.slice(-6)}`);
    // Each with the router secret (its development default here), which subgraphs require.
    for (const token of [alice, bob]) {
      expect(live.stats.connectionParams).toContainEqual({
        [ROUTER_SECRET_HEADER]: DEVELOPMENT_ROUTER_SECRET,
        authorization: `Bearer ${token}`,
      });
    }
    // The shared (public) kind never carries anyone's token to subgraphs, even a signed-in subscriber's.
    live.publish({ board: 'public', version: 1, entries: [{ rank: 1, score: 1, player: { id: 'p2' } }] });
    const pub = collect(client({ authorization: `Bearer ${alice}` }), BOARD, { board: 'public' });
    await waitFor(() => pub.results.length === 1, 'public subscription');
    expect(players.stats.lastAuthorization).toBeUndefined();
  });

  it('should refuse a bad token at connection time with close code 4403 and accept anonymous callers', async () => {
    const closes: number[] = [];
    const bad = client(
      { authorization: 'Bearer not-a-token' },
      { on: { closed: (e) => closes.push((e as { code: number }).code) } },
    );
    const refused = collect(bad, BOARD, { board: 'weekly' });
    await waitFor(() => refused.errors.length === 1, 'refusal');
    expect(closes).toEqual([4403]);

    const { token } = await issue('someone', new Date(Date.now() - 3_600_000));
    const expired = collect(client({ authorization: `Bearer ${token}` }), BOARD, { board: 'weekly' });
    await waitFor(() => expired.errors.length === 1, 'expired refusal');
    expect((expired.errors[0] as { code: number }).code).toBe(4403);

    const anonymous = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => anonymous.results.length === 1, 'anonymous subscriber');
  });

  it('should close a socket that subscribes before connection_init with 4401', async () => {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    ws.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: BOARD, variables: { board: 'x' } } }),
    );
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(4401);
  });

  it('should report invalid operations and cap subscriptions per connection', async () => {
    const c = client();
    const invalid = collect(c, 'subscription { scoreboard(board: "x") { nope } }', {});
    await waitFor(() => invalid.errors.length === 1, 'validation error');
    expect((invalid.errors[0] as { extensions: { code: string } }[])[0]?.extensions.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );

    const subs = [1, 2, 3, 4].map((i) => collect(c, BOARD, { board: `cap-${i}` }));
    await waitFor(
      () => subs.filter((s) => s.results.length === 1).length === 3 && subs[3]!.errors.length === 1,
      'cap',
    );
    expect((subs[3]!.errors[0] as { extensions: { code: string } }[])[0]?.extensions.code).toBe(
      'RATE_LIMITED',
    );
  });

  it('should apply the operation limits to subscriptions too', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: board`).join(' ');
    const limited = collect(client(), `subscription { scoreboard(board: "x") { ${aliases} } }`, {});
    await waitFor(() => limited.errors.length === 1, 'limit error');
    expect((limited.errors[0] as { message: string }[])[0]?.message).toBe(
      'The document uses 31 aliases; at most 30 are allowed.',
    );
  });

  it('should close a socket that sends garbage, whatever its size in bytes, and stay up', async () => {
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: '😀'.repeat(60) }));
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(4400);
    expect((await fetch(router.url.replace('/graphql', '/health'))).status).toBe(200);
  });

  it('should drop undeclared variables and refuse mistyped ones', async () => {
    // Sent as raw text: 30,000 levels of nesting, more than JSON.stringify would build.
    const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
    const messages: { id?: string; type: string; payload?: unknown }[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init' }));
    await waitFor(() => messages.some((m) => m.type === 'connection_ack'), 'ack');
    const deep = `${'['.repeat(30_000)}1${']'.repeat(30_000)}`;
    ws.send(
      `{"id":"junk","type":"subscribe","payload":{"query":${JSON.stringify(BOARD)},"variables":{"board":"weekly","x":${deep}}}}`,
    );
    ws.send(
      JSON.stringify({
        id: 'wrong',
        type: 'subscribe',
        payload: { query: BOARD, variables: { board: { $ne: null } } },
      }),
    );
    await waitFor(
      () =>
        messages.some((m) => m.id === 'junk' && m.type === 'next') && messages.some((m) => m.id === 'wrong'),
      'answers',
    );
    const wrong = messages.find((m) => m.id === 'wrong') as {
      type: string;
      payload: { extensions: { code: string } }[];
    };
    expect(wrong.type).toBe('error');
    expect(wrong.payload[0]?.extensions.code).toBe('BAD_USER_INPUT');
    ws.close();
    expect((await fetch(router.url.replace('/graphql', '/health'))).status).toBe(200);
  });

  it('should drop an upstream connection, and the token it holds, once its last subscription ends', async () => {
    const carol = (await issue('carol')).token;
    const query = `subscription { scoreboard(board: "private") { version entries { player { id secret } } } }`;
    const mine = collect(client({ authorization: `Bearer ${carol}` }), query, {});
    await waitFor(() => mine.results.length === 1, 'carol subscribed');
    const withCarol = router.engine.stats().upstreamConnections;
    expect(withCarol).toBeGreaterThan(0);
    mine.dispose();
    await waitFor(
      () => router.engine.stats().upstreamConnections < withCarol,
      'the connection to be dropped',
      10_000,
    );
  });

  it('should run queries over the same socket', async () => {
    const result = await new Promise<unknown>((resolve, reject) => {
      client().subscribe(
        { query: '{ player(id: "q1") { id name } }' },
        { next: resolve, error: reject, complete: () => {} },
      );
    });
    expect(result).toEqual({ data: { player: { id: 'q1', name: 'Player q1' } } });
  });

  it('should deliver every multipart result to Apollo Client as it happens, not at the next heartbeat', async () => {
    // The heartbeat is a minute here: a part that only the next write closed would
    // reach the client after it, far past this test's time-out.
    live.publish(snapshot(10, ['m']));
    const apollo = new ApolloClient({
      link: new HttpLink({ uri: heartbeatRouter.url }),
      cache: new InMemoryCache(),
    });
    const versions: number[] = [];
    const subscription = apollo
      .subscribe<{ scoreboard: { version: number } }>({ query: gql(BOARD), variables: { board: 'weekly' } })
      .subscribe({ next: (r) => r.data && versions.push(r.data.scoreboard.version) });
    try {
      await waitFor(() => versions.length === 1, 'the first snapshot over multipart');
      expect(versions).toEqual([10]);
      live.publish(snapshot(11, ['m', 'n']));
      await waitFor(() => versions.length === 2, 'the update over multipart');
      expect(versions).toEqual([10, 11]);
    } finally {
      subscription.unsubscribe();
      apollo.stop();
    }
    await waitFor(() => heartbeatRouter.engine.stats().subscriptions === 0, 'multipart subscriber to leave');
  });

  it('should serve subscriptions over SSE to the graphql-sse client, with the same sharing', async () => {
    live.publish(snapshot(20, ['s']));
    const sse = createSseClient({ url: router.url, retryAttempts: 0 });
    const versions: number[] = [];
    const ws = client();
    const wsResults = collect(ws, BOARD, { board: 'weekly' });
    let finished: unknown;
    const dispose = sse.subscribe<{ scoreboard: { version: number } }>(
      { query: BOARD, variables: { board: 'weekly' } },
      {
        next: (r) => r.data && versions.push(r.data.scoreboard.version),
        error: (e) => {
          finished = e;
        },
        complete: () => {
          finished = 'complete';
        },
      },
    );
    try {
      await waitFor(() => versions.length === 1 && wsResults.results.length === 1, 'first snapshots');
      // One upstream subscription serves both transports.
      expect(live.stats.activeSubscriptions).toBe(1);
      live.publish(snapshot(21, ['s', 't']));
      await waitFor(() => versions.length === 2, 'the update over SSE');
      expect(versions).toEqual([20, 21]);
      expect(finished).toBeUndefined();
      // A query over SSE: one result, then complete.
      const answer = await new Promise<unknown>((resolve, reject) => {
        let result: unknown;
        sse.subscribe(
          { query: '{ player(id: "p1") { id name } }' },
          { next: (r) => (result = r), error: reject, complete: () => resolve(result) },
        );
      });
      expect(answer).toEqual({ data: { player: { id: 'p1', name: 'Player p1' } } });
    } finally {
      dispose();
      sse.dispose();
      wsResults.dispose();
    }
  });

  it('should explain that HTTP subscriptions need multipart or graphql-ws', async () => {
    const { status, body } = await postGraphQL(router.url, BOARD, { board: 'weekly' });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('should expose subscription metrics', async () => {
    const s = collect(client(), BOARD, { board: 'metrics' });
    await waitFor(() => s.results.length === 1, 'subscriber');
    const text = await (await fetch(router.url.replace('/graphql', '/metrics'))).text();
    expect(text).toMatch(/^router_subscriptions_active 1$/m);
    expect(text).toMatch(/^router_upstream_subscriptions 1$/m);
    expect(text).toMatch(/^router_ws_connections \d+$/m);
    expect(text).toMatch(/^router_subscription_events_total \d+$/m);
  });

  it('should end client streams with an error when the subgraph dies, stay healthy, and resubscribe after it is back', async () => {
    const s = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => s.results.length === 1, 'subscriber');
    const port = live.port;
    await live.stop();
    await waitFor(() => s.errors.length === 1, 'stream error', 10_000);
    const error = (s.errors[0] as { message: string; extensions: { code: string } }[])[0];
    expect(error?.extensions.code).toBe('SUBSCRIPTION_UPSTREAM_FAILED');
    expect((await fetch(router.url.replace('/graphql', '/health'))).status).toBe(200);

    live = await startLiveSubgraph(port);
    live.publish(snapshot(20, ['r']));
    const again = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => again.results.length === 1, 'resubscribed');
    expect((again.results[0]!.data as { scoreboard: { version: number } }).scoreboard.version).toBe(20);
  });

  it('should end subscriptions with SUBSCRIPTION_SCHEMA_RELOAD when the supergraph changes', async () => {
    const s = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => s.results.length === 1, 'subscriber');
    writeStubSupergraph(dir, { live: live.url, players: players.url }, 'nickname: String');
    await waitFor(() => s.errors.length === 1, 'reload error', 10_000);
    expect((s.errors[0] as { extensions: { code: string } }[])[0]?.extensions.code).toBe(
      'SUBSCRIPTION_SCHEMA_RELOAD',
    );
    const again = collect(client(), BOARD, { board: 'weekly' });
    await waitFor(() => again.results.length === 1, 'resubscribed on the new schema');
  });

  it('should refuse a forged token on the multipart path with 401', async () => {
    const res = await fetch(router.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;subscriptionSpec="1.0"',
        ...bearer('forged'),
      },
      body: JSON.stringify({ query: BOARD, variables: { board: 'weekly' } }),
    });
    expect(res.status).toBe(401);
  });

  it('should refuse a forged token on the SSE path with 401, and count SSE streams in the per-client cap', async () => {
    const forged = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer('forged') },
      body: JSON.stringify({ query: BOARD, variables: { board: 'weekly' } }),
    });
    expect(forged.status).toBe(401);
    // MAX_SUBSCRIPTIONS_PER_CONNECTION is 3 here: the fourth HTTP stream of one client is refused.
    const controllers = [1, 2, 3, 4].map(() => new AbortController());
    const streams: Response[] = [];
    // One after the other, so that the fourth is the one over the cap.
    for (const c of controllers) {
      streams.push(
        await fetch(router.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ query: BOARD, variables: { board: 'weekly' } }),
          signal: c.signal,
        }),
      );
    }
    try {
      const refused = await streams[3]!.text();
      expect(refused).toContain('"RATE_LIMITED"');
      expect(refused).toMatch(/event: complete\ndata:\n\n$/);
    } finally {
      for (const c of controllers) c.abort();
    }
  });
});

describe('subscription limits', () => {
  let dir: string;
  let live: Awaited<ReturnType<typeof startLiveSubgraph>>;
  let players: Awaited<ReturnType<typeof startPlayersSubgraph>>;
  let router: RunningRouter;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'subscription-limits-'));
    live = await startLiveSubgraph();
    players = await startPlayersSubgraph();
    router = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: writeStubSupergraph(dir, { live: live.url, players: players.url }),
        JWT_SECRET: SECRET,
        MAX_SUBSCRIPTIONS: '3',
        SUBSCRIPTION_HIGH_WATER_BYTES: '65536',
        SLOW_CONSUMER_TIMEOUT_MS: '300',
      }),
      logger,
    );
  });

  afterAll(async () => {
    await router?.stop();
    await live?.stop();
    await players?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A raw graphql-transport-ws client, so the test can stop reading its socket. */
  async function rawSubscriber(boards: string[], query: (board: string) => string) {
    const ws = new WebSocket(router.url.replace('http', 'ws'), 'graphql-transport-ws');
    const messages: { id?: string; type: string; payload?: unknown }[] = [];
    let closeCode: number | undefined;
    ws.on('message', (m) => messages.push(JSON.parse(m.toString())));
    ws.on('close', (code) => {
      closeCode = code;
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await waitFor(() => messages.some((m) => m.type === 'connection_ack'), 'ack');
    boards.forEach((board, i) => {
      ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: query(board) } }));
    });
    return { ws, messages, closed: () => closeCode };
  }

  it('should refuse subscriptions over the per-process cap with RATE_LIMITED', async () => {
    const query = (board: string) => `subscription { scoreboard(board: "${board}") { version } }`;
    const client = await rawSubscriber(['c1', 'c2', 'c3', 'c4'], query);
    await waitFor(() => client.messages.filter((m) => m.type === 'next').length === 3, 'three subscriptions');
    await waitFor(() => client.messages.some((m) => m.type === 'error'), 'the fourth refused');
    const refused = client.messages.find((m) => m.type === 'error') as {
      id: string;
      payload: { extensions: { code: string } }[];
    };
    expect(refused.id).toBe('3');
    expect(refused.payload[0]?.extensions.code).toBe('RATE_LIMITED');
    client.ws.close();
    await waitFor(() => router.engine.stats().subscriptions === 0, 'released');
  });

  it('should close a consumer that stops reading, keep only the latest result meanwhile, and count it', async () => {
    // Big snapshots, no entity fetches: the socket backs up quickly.
    const big = (version: number) => ({
      board: 'flood',
      version,
      entries: Array.from({ length: 2_000 }, (_, i) => ({
        rank: i + 1,
        score: i,
        player: { id: `player-${i}` },
      })),
    });
    live.publish(big(0));
    const reader = await rawSubscriber(
      ['flood'],
      (b) => `subscription { scoreboard(board: "${b}") { version entries { rank score player { id } } } }`,
    );
    await waitFor(() => reader.messages.some((m) => m.type === 'next'), 'first snapshot');
    // A healthy subscriber of the same board keeps receiving.
    const healthy = await rawSubscriber(
      ['flood'],
      (b) => `subscription { scoreboard(board: "${b}") { version entries { rank score player { id } } } }`,
    );
    (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let v = 1; v <= 200; v += 1) {
      live.publish(big(v));
      await new Promise((r) => setTimeout(r, 2));
    }
    await waitFor(() => router.engine.stats().subscriptions === 1, 'the slow consumer to be dropped', 10_000);
    const text = await (await fetch(router.url.replace('/graphql', '/metrics'))).text();
    expect(text).toMatch(/^router_ws_slow_consumers_closed_total 1$/m);
    const lastVersion = () =>
      (
        healthy.messages.filter((m) => m.type === 'next').at(-1) as
          | { payload: { data: { scoreboard: { version: number } } } }
          | undefined
      )?.payload.data.scoreboard.version;
    await waitFor(() => lastVersion() === 200, 'the healthy subscriber to reach the last snapshot');
    healthy.ws.close();
  });
});

describe('router shutdown with WebSocket clients', () => {
  it('should not wait on a peer that never answers the close handshake', { timeout: 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'subscription-shutdown-'));
    const live = await startLiveSubgraph();
    const players = await startPlayersSubgraph();
    const router = await startRouter(
      loadConfig({
        PORT: '0',
        SUPERGRAPH_PATH: writeStubSupergraph(dir, { live: live.url, players: players.url }),
        JWT_SECRET: SECRET,
      }),
      logger,
    );
    try {
      const silent = new WebSocket(router.url.replace('http', 'ws'), 'graphql-transport-ws');
      await new Promise((r) => silent.once('open', r));
      // It stops reading: the close frame is never answered.
      (silent as unknown as { _socket: { pause(): void } })._socket.pause();
      // ws alone would wait 30 s for this peer; the test's 20 s timeout fails that.
      await router.stop();
      silent.terminate();
    } finally {
      await live.stop();
      await players.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
