import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createTokenIssuer, createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import {
  createLogger,
  DEVELOPMENT_ROUTER_SECRET,
  ROUTER_SECRET_HEADER,
  type Served,
  serve,
} from '@fitness/server-kit';
import { bearer, postGraphQL } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { jwksRoutes } from '../src/jwks.js';
import { createUsersServer } from '../src/server.js';
import { SignInThrottle } from '../src/signInThrottle.js';
import { SignUpThrottle } from '../src/signUpThrottle.js';
import { uniqueHandle } from './adapters.js';

const logger = createLogger('users-test', 'silent');
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
/** Requests come as the router's: ROUTER_SUBGRAPH_SECRET is left to its development default. */
const fromRouter = { [ROUTER_SECRET_HEADER]: DEVELOPMENT_ROUTER_SECRET };

/** The users service wired as index.ts wires it, from environment variables, on port 0. */
async function startUsers(env: NodeJS.ProcessEnv): Promise<Served> {
  const config = loadConfig({ PORT: '0', ...env });
  const store = new MemoryUsersStore();
  const verify = createTokenVerifier(config.tokens);
  const accounts = {
    issueToken: createTokenIssuer(config.tokens),
    defaultRegion: config.defaultRegion,
    signInThrottle: new SignInThrottle(new MemoryRateLimiter(), config.signInThrottle),
    signUpThrottle: new SignUpThrottle(new MemoryRateLimiter(), config.signUpThrottle),
  };
  return serve({
    logger,
    apollo: createUsersServer(logger),
    routerSecret: config.routerSecret,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, store, accounts, logger),
    ready: async () => true,
    routes: jwksRoutes(config.tokens),
    host: '127.0.0.1',
    port: 0,
    closeStores: async () => {},
  });
}

const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id } } }`;

async function signUp(url: string) {
  const handle = uniqueHandle('jwks');
  const { body } = await postGraphQL<{ signUp: { token: string; user: { id: string } } }>(
    url,
    SIGN_UP,
    {
      input: {
        email: `${handle}@example.com`,
        password: 'correct horse battery',
        handle,
        displayName: handle,
      },
    },
    fromRouter,
  );
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.signUp;
}

describe.each([
  { algorithm: 'EdDSA' as const, pair: () => generateKeyPairSync('ed25519') },
  { algorithm: 'RS256' as const, pair: () => generateKeyPairSync('rsa', { modulusLength: 2048 }) },
])('users with $algorithm keys', ({ algorithm, pair }) => {
  let users: Served;
  let jwksUrl: string;

  beforeAll(async () => {
    const current = pair().privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const previous = createPublicKey(pair().privateKey).export({ format: 'pem', type: 'spki' }).toString();
    users = await startUsers({
      JWT_ALG: algorithm,
      JWT_PRIVATE_KEY: current,
      JWT_KID: 'current',
      JWT_PREVIOUS_PUBLIC_KEY: previous,
      JWT_PREVIOUS_KID: 'previous',
    });
    jwksUrl = users.url.replace('/graphql', '/.well-known/jwks.json');
  });
  afterAll(async () => {
    await users?.stop();
  });

  it('should serve only public key parameters at /.well-known/jwks.json', async () => {
    const res = await fetch(jwksUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys.map((k) => k.kid)).toEqual(['current', 'previous']);
    for (const key of keys) {
      expect(key).toMatchObject({ alg: algorithm, use: 'sig' });
      for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
      expect(Object.keys(key).sort()).toEqual(
        algorithm === 'EdDSA'
          ? ['alg', 'crv', 'kid', 'kty', 'use', 'x']
          : ['alg', 'e', 'kid', 'kty', 'n', 'use'],
      );
    }
  });

  it('should issue tokens that verify through its JWKS, and accept them itself', async () => {
    const { token, user } = await signUp(users.url);
    const verify = createTokenVerifier({
      issuer: 'fitness-users',
      audience: 'fitness-api',
      algorithm,
      jwksUrl,
    });
    expect((await verify(token)).userId).toBe(user.id);

    const me = await postGraphQL<{ me: { id: string } }>(
      users.url,
      '{ me { id } }',
      {},
      {
        ...bearer(token),
        ...fromRouter,
      },
    );
    expect(me.status).toBe(200);
    expect(me.body.data?.me.id).toBe(user.id);
  });
});

describe('users with HS256', () => {
  it('should publish no JWKS', async () => {
    const users = await startUsers({});
    try {
      const res = await fetch(users.url.replace('/graphql', '/.well-known/jwks.json'));
      expect(res.status).toBe(404);
    } finally {
      await users.stop();
    }
  });
});
