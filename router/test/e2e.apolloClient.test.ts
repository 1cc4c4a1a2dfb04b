import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  gql,
  HttpLink,
  InMemoryCache,
} from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import {
  LeaderboardUpdatedDocument,
  type LeaderboardUpdatedSubscription,
  LogWorkoutDocument,
  MeDocument,
  SignUpDocument,
  UserByHandleDocument,
} from '@fitness/client';
import { createTestDatabase, mongoUrlWithOwnDatabase, realService } from '@fitness/testing';
import { type Stack, startStack } from '@fitness/tooling';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** What the client sent: every HTTP request body, to tell hash-only requests from full ones. */
interface Sent {
  operationName?: string;
  query?: string;
  extensions?: { persistedQuery?: { sha256Hash: string } };
}

/**
 * The official Apollo Client, used the way an app uses it, against the real router
 * and subgraphs: auth link, normalised cache, a split link (graphql-ws for
 * subscriptions) and the plain HttpLink (multipart subscriptions, as Sandbox does),
 * persisted queries, and the codegen typed documents.
 */
describe('Apollo Client end to end', () => {
  let stack: Stack;
  let dropPayments: (() => Promise<void>) | undefined;
  const clients: ApolloClient[] = [];
  const disposers: (() => void)[] = [];

  beforeAll(async () => {
    const postgres = realService('postgres', 'e2e Apollo Client');
    const payments = postgres ? await createTestDatabase(postgres) : undefined;
    dropPayments = payments?.drop;
    stack = await startStack({
      ports: 'free',
      output: 'capture',
      env: {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        JWT_SECRET: randomBytes(32).toString('hex'),
        APOLLO_TELEMETRY_DISABLED: 'true',
      },
      serviceEnv: {
        // A minute: every result below has to arrive long before the first heartbeat.
        router: { SUBSCRIPTION_HEARTBEAT_MS: '60000' },
        payments: payments ? { PAYMENTS_DATABASE_URL: payments.url } : { PAYMENTS_DATA_DIR: 'memory://' },
        workouts: { WORKOUTS_DATA_DIR: 'memory://' },
        users: {
          MONGODB_URL:
            process.env.MONGODB_URL && mongoUrlWithOwnDatabase(process.env.MONGODB_URL, 'e2e-apollo-client'),
          USERS_DATA_DIR: 'memory://',
        },
      },
    });
  }, 180_000);

  afterAll(async () => {
    for (const dispose of disposers) dispose();
    for (const client of clients) client.stop();
    await stack?.stop();
    await dropPayments?.();
  });

  /** An app's client: token from storage, HTTP for queries, optionally graphql-ws for subscriptions. */
  const app = (options: {
    token?: () => string | undefined;
    ws?: boolean;
    persisted?: boolean;
    sent?: Sent[];
  }) => {
    const auth = new SetContextLink((prev) => {
      const token = options.token?.();
      return token ? { headers: { ...prev.headers, authorization: `Bearer ${token}` } } : {};
    });
    const http = new HttpLink({
      uri: stack.routerUrl,
      fetch: async (input, init) => {
        if (options.sent && typeof init?.body === 'string') options.sent.push(JSON.parse(init.body) as Sent);
        return fetch(input, init);
      },
    });
    const persisted = options.persisted
      ? new PersistedQueryLink({ sha256: (query) => createHash('sha256').update(query).digest('hex') })
      : ApolloLink.empty();
    let transport: ApolloLink = options.persisted ? persisted.concat(http) : http;
    if (options.ws) {
      const wsClient = createClient({
        url: stack.routerUrl.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: () => {
          const token = options.token?.();
          return token ? { authorization: `Bearer ${token}` } : {};
        },
      });
      disposers.push(() => void wsClient.dispose());
      transport = ApolloLink.split(
        ({ query }) => {
          const definition = getMainDefinition(query);
          return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
        },
        new GraphQLWsLink(wsClient),
        transport,
      );
    }
    const client = new ApolloClient({ link: auth.concat(transport), cache: new InMemoryCache() });
    clients.push(client);
    return client;
  };

  let token: string | undefined;
  let userId: string;
  let handle: string;

  const signUp = async (client: ApolloClient, name: string) => {
    const { data } = await client.mutate({
      mutation: SignUpDocument,
      variables: {
        input: {
          email: `${name}@example.com`,
          password: 'correct horse battery',
          handle: name,
          displayName: `${name} Client`,
          region: 'EU',
        },
      },
    });
    return data!.signUp;
  };

  it('should sign up, send the token with every request and keep one normalised User in the cache', async () => {
    const client = app({ token: () => token });
    handle = `ac_${randomBytes(3).toString('hex')}`;
    const signedUp = await signUp(client, handle);
    token = signedUp.token;
    userId = signedUp.user.id;
    const me = await client.query({ query: MeDocument });
    expect(me.data?.me).toMatchObject({ id: userId, handle });
    const byHandle = await client.query({ query: UserByHandleDocument, variables: { handle } });
    expect(byHandle.data?.userByHandle?.id).toBe(userId);
    // Both answers are one entry of the cache, found by its key.
    const cached = client.cache.extract() as Record<string, { handle?: string }>;
    const key = client.cache.identify({ __typename: 'User', id: userId })!;
    expect(cached[key]?.handle).toBe(handle);
    expect(Object.keys(cached).filter((k) => k.startsWith('User:'))).toEqual([key]);
  });

  it('should read a 401 as UNAUTHENTICATED GraphQL errors, not an opaque server error', async () => {
    const client = app({ token: () => 'not-a-token' });
    const result = await client
      .query({ query: MeDocument, errorPolicy: 'all' })
      .catch((error: unknown) => ({ error }));
    expect(CombinedGraphQLErrors.is(result.error)).toBe(true);
    expect((result.error as CombinedGraphQLErrors).errors[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('should give partial data and FORBIDDEN errors with errorPolicy all', async () => {
    const other = app({});
    const stranger = await signUp(other, `ac_other_${randomBytes(3).toString('hex')}`);
    const client = app({ token: () => token });
    // Someone else's profile, with a self-only field.
    const result = await client.query<{ userByHandle: { id: string; email: string | null } | null }>({
      query: gql`query Profile($handle: String!) { userByHandle(handle: $handle) { id handle email } }`,
      variables: { handle: stranger.user.handle },
      errorPolicy: 'all',
    });
    expect(result.data?.userByHandle).toMatchObject({ id: stranger.user.id, email: null });
    expect(CombinedGraphQLErrors.is(result.error)).toBe(true);
    const errors = (result.error as CombinedGraphQLErrors).errors;
    expect(errors.map((e) => [e.path, e.extensions?.code])).toContainEqual([
      ['userByHandle', 'email'],
      'FORBIDDEN',
    ]);
  });

  /** Subscribes with a typed document; collects the boards it receives. */
  const watch = (client: ApolloClient) => {
    const boards: LeaderboardUpdatedSubscription['leaderboardUpdated'][] = [];
    const errors: unknown[] = [];
    const subscription = client
      .subscribe({
        query: LeaderboardUpdatedDocument,
        variables: { board: { metric: 'DURATION_SEC', period: 'ALL_TIME', first: 50 } },
      })
      .subscribe({
        next: (result) => {
          if (result.data) boards.push(result.data.leaderboardUpdated);
          if (result.error) errors.push(result.error);
        },
        error: (error) => errors.push(error),
      });
    disposers.push(() => subscription.unsubscribe());
    return { boards, errors, stop: () => subscription.unsubscribe() };
  };

  const logWorkout = (client: ApolloClient, durationSec: number) =>
    client.mutate({
      mutation: LogWorkoutDocument,
      variables: {
        input: { id: randomUUID(), sport: 'RUN', startedAt: new Date().toISOString(), durationSec },
      },
    });

  it('should deliver the first snapshot and each update over multipart (plain HttpLink) and graphql-ws (split link) at once', async () => {
    const multipart = watch(app({ token: () => token }));
    const ws = watch(app({ token: () => token, ws: true }));
    await waitFor(() => multipart.boards.length >= 1 && ws.boards.length >= 1, 'the first snapshots');
    const score = (board: (typeof multipart.boards)[number] | undefined) =>
      board?.entries.find((e) => e.user?.id === userId)?.score ?? 0;
    expect(score(multipart.boards.at(-1))).toBe(0);
    await logWorkout(app({ token: () => token }), 1_234);
    // Both arrive although no heartbeat (a minute apart) has closed anything.
    await waitFor(() => score(multipart.boards.at(-1)) === 1_234, 'the update over multipart');
    await waitFor(() => score(ws.boards.at(-1)) === 1_234, 'the update over graphql-ws');
    expect(multipart.boards.at(-1)?.entries.find((e) => e.user?.id === userId)?.user?.handle).toBe(handle);
    expect(multipart.errors).toEqual([]);
    expect(ws.errors).toEqual([]);
    multipart.stop();
    ws.stop();
  });

  const hashOnly = (sent: Sent[], operationName: string) =>
    sent.filter((s) => s.operationName === operationName && !s.query && s.extensions?.persistedQuery);

  it('should send hash-only persisted queries for queries, mutations and multipart subscriptions once registered', async () => {
    const sent: Sent[] = [];
    const client = app({ token: () => token, persisted: true, sent });
    const first = await client.query({ query: MeDocument, fetchPolicy: 'network-only' });
    expect(first.data?.me?.id).toBe(userId);
    const second = await client.query({ query: MeDocument, fetchPolicy: 'network-only' });
    expect(second.data?.me?.id).toBe(userId);
    // A miss and a registration first; then the hash alone is enough.
    const me = sent.filter((s) => s.operationName === 'Me');
    expect(me.map((s) => Boolean(s.query))).toEqual([false, true, false]);

    await logWorkout(client, 10);
    await logWorkout(client, 20);
    expect(hashOnly(sent, 'LogWorkout').length).toBeGreaterThanOrEqual(2);
    expect(sent.filter((s) => s.operationName === 'LogWorkout' && s.query)).toHaveLength(1);

    const registering = watch(client);
    await waitFor(() => registering.boards.length >= 1, 'the first subscription (registering its hash)');
    registering.stop();
    const before = hashOnly(sent, 'LeaderboardUpdated').length;
    const hashed = watch(client);
    await waitFor(() => hashed.boards.length >= 1, 'a subscription from its hash alone');
    expect(hashOnly(sent, 'LeaderboardUpdated').length).toBe(before + 1);
    expect(sent.filter((s) => s.operationName === 'LeaderboardUpdated' && s.query)).toHaveLength(1);
    expect(hashed.errors).toEqual([]);
    hashed.stop();
  });

  it('should type results from the codegen documents', async () => {
    const client = app({ token: () => token });
    const { data } = await client.query({ query: MeDocument });
    // A compile-time check as much as a run-time one: `handle` is a string here.
    const length: number = data?.me?.handle.length ?? 0;
    expect(length).toBe(handle.length);
  });
});
