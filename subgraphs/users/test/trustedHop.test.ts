import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { createLogger, ROUTER_SECRET_HEADER, type Served, serve } from '@fitness/server-kit';
import { errorCodes, postGraphQL } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddressOf, createContext } from '../src/context.js';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { createUsersServer } from '../src/server.js';
import { TEST_TOKENS, testAccounts } from './adapters.js';

const logger = createLogger('users-test', 'silent');
const ROUTER_SECRET = '3f9c1e7a5b2d8046c1f0e9a7b3d5c2e18a4f6b0d9c7e5a3f1b2c4d6e8f0a1b3c';
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { token } }`;

describe('users over HTTP: only the router is answered', () => {
  let users: Served;
  const base = () => users.url.replace('/graphql', '');

  beforeAll(async () => {
    const verify = createTokenVerifier(TEST_TOKENS);
    const accounts = testAccounts(new MemoryRateLimiter(), { maxFailuresPerAddress: 2 });
    const store = new MemoryUsersStore();
    // As index.ts wires it: the client address comes from the router's header.
    users = await serve({
      logger,
      apollo: createUsersServer(logger),
      routerSecret: ROUTER_SECRET,
      authenticate: (req) => viewerFromHeaders(req.headers, verify),
      context: (viewer, req) =>
        createContext(viewer, store, accounts, logger, { clientAddress: clientAddressOf(req.headers) }),
      ready: async () => true,
      host: '127.0.0.1',
      port: 0,
      closeStores: async () => {},
    });
  });
  afterAll(async () => {
    await users?.stop();
  });

  const failSignIn = (headers: Record<string, string>) =>
    postGraphQL(
      users.url,
      SIGN_IN,
      { input: { email: 'nobody@example.com', password: 'wrong password!' } },
      headers,
    );

  it('should refuse a request without the router secret with 401, and a wrong one with 403', async () => {
    const missing = await postGraphQL(users.url, '{ __typename }');
    expect(missing.status).toBe(401);
    expect(errorCodes(missing.body)).toEqual(['UNAUTHENTICATED']);
    expect(missing.body.data).toBeUndefined();
    for (const wrong of [
      'wrong',
      `${ROUTER_SECRET}x`,
      ROUTER_SECRET.slice(0, -1),
      ROUTER_SECRET.toUpperCase(),
    ]) {
      const refused = await postGraphQL(users.url, '{ __typename }', {}, { [ROUTER_SECRET_HEADER]: wrong });
      expect(refused.status).toBe(403);
      expect(errorCodes(refused.body)).toEqual(['FORBIDDEN']);
    }
    const answered = await postGraphQL(
      users.url,
      '{ __typename }',
      {},
      { [ROUTER_SECRET_HEADER]: ROUTER_SECRET },
    );
    expect(answered.status).toBe(200);
    expect(answered.body.data).toEqual({ __typename: 'Query' });
    const get = await fetch(`${users.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(401);
    // Refused before the body is read: its content does not matter, not even broken JSON.
    const unread = await fetch(users.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(unread.status).toBe(401);
  });

  it('should keep /health, /ready and /metrics open', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      expect((await fetch(`${base()}${path}`)).status).toBe(200);
    }
  });

  it('should let a forged x-client-address count for nothing unless the secret is right', async () => {
    const counted = '203.0.113.10';
    const forged = '203.0.113.20';
    for (let i = 0; i < 2; i++) {
      const failed = await failSignIn({ [ROUTER_SECRET_HEADER]: ROUTER_SECRET, 'x-client-address': counted });
      expect(errorCodes(failed.body)).toEqual(['UNAUTHENTICATED']);
    }
    const blocked = await failSignIn({ [ROUTER_SECRET_HEADER]: ROUTER_SECRET, 'x-client-address': counted });
    expect(errorCodes(blocked.body)).toEqual(['RATE_LIMITED']);

    // Without the secret, or with a wrong one, a claimed address neither escapes a block
    // nor spends another address's budget: the request never reaches sign-in.
    const notFromRouter: Record<string, string>[] = [
      { 'x-client-address': forged },
      { [ROUTER_SECRET_HEADER]: 'not-the-router', 'x-client-address': forged },
    ];
    for (const headers of notFromRouter) {
      for (let i = 0; i < 3; i++) expect([401, 403]).toContain((await failSignIn(headers)).status);
    }
    const unspent = await failSignIn({ [ROUTER_SECRET_HEADER]: ROUTER_SECRET, 'x-client-address': forged });
    expect(errorCodes(unspent.body)).toEqual(['UNAUTHENTICATED']);
  });
});
