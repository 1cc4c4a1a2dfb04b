import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createTokenIssuer, publicJwks } from '@fitness/auth';
import { closeHttpServer, createHttpApp, createLogger, listen } from '@fitness/server-kit';
import { bearer, postGraphQL } from '@fitness/testing';
import { composeSupergraph } from '@fitness/tooling';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddressOf, parseTrustedProxies } from '../src/clientAddress.js';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';

const logger = createLogger('router-test', 'silent');
const SECRET = 'router-test-secret-that-is-long-enough';
const issue = createTokenIssuer({
  secret: SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
  ttlSeconds: 600,
});

const sdl = (extraField = '') => `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query {
    seen: Seen!
    boom: String
    ${extraField}
  }
  type Seen { authorization: String, internal: String, requestId: String, clientAddress: String }
`;

/** A subgraph that tells what headers the router sent it. */
async function startEchoSubgraph() {
  let last: IncomingHttpHeaders = {};
  let calls = 0;
  const apollo = new ApolloServer<{ headers: IncomingHttpHeaders }>({
    schema: buildSubgraphSchema({
      typeDefs: parse(sdl('added: String')),
      resolvers: {
        Query: {
          seen: (_: unknown, __: unknown, ctx: unknown) => {
            const { headers } = ctx as { headers: IncomingHttpHeaders };
            return {
              authorization: headers.authorization ?? null,
              internal: (headers['x-internal-user-id'] as string | undefined) ?? null,
              requestId: (headers['x-request-id'] as string | undefined) ?? null,
              clientAddress: (headers['x-client-address'] as string | undefined) ?? null,
            };
          },
          boom: () => {
            throw new Error('connection to db at 10.0.0.5 failed: password=hunter2');
          },
          added: () => 'new field',
        },
      },
    }),
  });
  await apollo.start();
  const server: Server = createHttpApp({
    logger,
    apollo,
    authenticate: async (req) => {
      calls += 1;
      last = req.headers;
      return req.headers;
    },
    context: (headers) => ({ headers }),
    ready: async () => true,
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    lastHeaders: () => last,
    calls: () => calls,
    async stop() {
      await closeHttpServer(server);
      await apollo.stop();
    },
  };
}

function writeSupergraph(dir: string, subgraphUrl: string, extraField = ''): string {
  const schemaPath = join(dir, 'echo.graphql');
  writeFileSync(schemaPath, sdl(extraField));
  const { supergraphSdl } = composeSupergraph([{ name: 'echo', routingUrl: subgraphUrl, schemaPath }]);
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, supergraphSdl);
  return path;
}

describe('router', () => {
  let dir: string;
  let echo: Awaited<ReturnType<typeof startEchoSubgraph>>;
  let router: RunningRouter;
  let supergraphPath: string;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'router-test-'));
    echo = await startEchoSubgraph();
    // The file names a wrong URL on purpose: SUBGRAPH_ECHO_URL must win.
    supergraphPath = writeSupergraph(dir, 'http://127.0.0.1:9/graphql');
    const config = loadConfig({
      PORT: '0',
      SUPERGRAPH_PATH: supergraphPath,
      SUBGRAPH_ECHO_URL: echo.url,
      JWT_SECRET: SECRET,
      MAX_BODY_BYTES: '2000',
    });
    router = await startRouter(config, logger);
    base = `http://127.0.0.1:${router.port}`;
  });

  afterAll(async () => {
    await router?.stop();
    await echo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should serve an anonymous caller and forward no Authorization', async () => {
    const { status, body } = await postGraphQL(router.url, '{ seen { authorization internal requestId } }');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ seen: { authorization: null, internal: null } });
    expect(echo.lastHeaders().authorization).toBeUndefined();
  });

  it('should forward a valid token and the request id, and drop client-sent internal headers', async () => {
    const { token } = await issue('user-42');
    const { body } = await postGraphQL(
      router.url,
      '{ seen { authorization internal requestId } }',
      {},
      {
        ...bearer(token),
        'x-internal-user-id': 'admin',
        'x-request-id': 'req-123',
      },
    );
    expect(body.data).toEqual({
      seen: { authorization: `Bearer ${token}`, internal: null, requestId: 'req-123' },
    });
  });

  it('should send the socket address as x-client-address, never a client-sent one or X-Forwarded-For', async () => {
    const { body } = await postGraphQL(
      router.url,
      '{ seen { clientAddress } }',
      {},
      { 'x-client-address': '6.6.6.6', 'x-forwarded-for': '203.0.113.9' },
    );
    expect(body.data).toEqual({ seen: { clientAddress: '127.0.0.1' } });
    expect(echo.lastHeaders()['x-client-address']).toBe('127.0.0.1');
  });

  it('should answer 401 UNAUTHENTICATED to a bad or expired token without calling a subgraph', async () => {
    const before = echo.calls();
    const bad = await postGraphQL(router.url, '{ seen { authorization } }', {}, bearer('not-a-jwt'));
    expect(bad.status).toBe(401);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const { token } = await issue('user-42', new Date(Date.now() - 3600_000));
    const expired = await postGraphQL(router.url, '{ seen { authorization } }', {}, bearer(token));
    expect(expired.status).toBe(401);
    expect(expired.body.errors?.[0]?.message).toBe('Token has expired.');

    const foreign = createTokenIssuer({
      secret: 'some-other-secret-that-is-long-enough',
      issuer: 'fitness-users',
      audience: 'fitness-api',
      ttlSeconds: 600,
    });
    const wrongKey = await postGraphQL(
      router.url,
      '{ seen { authorization } }',
      {},
      bearer((await foreign('u')).token),
    );
    expect(wrongKey.status).toBe(401);
    expect(echo.calls()).toBe(before);
  });

  it('should mask unexpected subgraph errors', async () => {
    const { body } = await postGraphQL(router.url, '{ boom }');
    const text = JSON.stringify(body);
    expect(body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('10.0.0.5');
    expect(text).not.toContain('stacktrace');
  });

  it('should reject malformed JSON and oversized bodies with 4xx, not a crash', async () => {
    const malformed = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(malformed.status).toBe(400);
    const huge = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ seen { authorization } } # ${'x'.repeat(5000)}` }),
    });
    expect(huge.status).toBe(413);
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
  });

  it('should answer 413 to a chunked body over the limit, not reset the connection', async () => {
    const { request } = await import('node:http');
    const answer = await new Promise<{ status: number; body: string; connection: string | undefined }>(
      (resolve, reject) => {
        const req = request(
          router.url,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            let body = '';
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }),
            );
          },
        );
        req.on('error', reject);
        // No content-length: Node sends it chunked, 500 bytes at a time, well past 2,000.
        const chunk = `{"query": "${'x'.repeat(500)}`;
        let sent = 0;
        const write = () => {
          while (sent < 20 && req.write(chunk)) sent += 1;
          if (sent < 20) req.once('drain', write);
          else req.end('"}');
        };
        write();
      },
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [{ message: 'Request body larger than 2000 bytes.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(answer.connection).toBe('close');
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('should answer errors found before planning as application/graphql-response+json when the client accepts it', async () => {
    const accept = 'application/graphql-response+json, application/json;q=0.9';
    const badToken = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: '{ seen { authorization } }' }),
    });
    expect(badToken.status).toBe(401);
    expect(badToken.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(
      ((await badToken.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
    ).toBe('UNAUTHENTICATED');
    const plain = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: '{ seen { authorization } }' }),
    });
    expect(plain.status).toBe(401);
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    const huge = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query: `{ seen { authorization } } # ${'x'.repeat(5000)}` }),
    });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
  });

  it('should answer a persisted-query hash that does not match its query with a client error code', async () => {
    const res = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ seen { requestId } }',
        extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
      }),
    });
    expect(res.status).toBe(400);
    expect(
      ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
    ).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  });

  it('should refuse operations nested too deep or with too many aliases, before planning', async () => {
    const before = echo.calls();
    const deep = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } }`;
    const tooDeep = await postGraphQL(router.url, deep);
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.errors?.[0]).toMatchObject({
      message: 'The operation is nested more than 15 levels deep.',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: seen { requestId }`).join(' ');
    const tooMany = await postGraphQL(router.url, `{ ${aliases} }`);
    expect(tooMany.body.errors?.[0]?.message).toBe('The document uses 31 aliases; at most 30 are allowed.');
    // Fragments spread in a doubling chain: 2^30 paths, but each fragment is measured once.
    const chain = Array.from(
      { length: 30 },
      (_, i) => `fragment F${i} on Seen { ...F${i + 1} ...F${i + 1} }`,
    );
    const bomb = `{ seen { ...F0 } } ${chain.join(' ')} fragment F30 on Seen { requestId }`;
    // (Walked path by path, this would block the event loop for minutes: past the test timeout.)
    const chained = await postGraphQL(router.url, bomb);
    expect(chained.status).toBe(200);
    expect(chained.body.data).toEqual({ seen: { requestId: expect.any(String) } });
    const fine = await postGraphQL(router.url, `{ ${aliases.split(' a30:')[0]} }`);
    expect(fine.body.errors).toBeUndefined();
    expect(echo.calls() - before).toBe(2);
  });

  it('should survive request targets that are not valid URL paths', async () => {
    const { connect } = await import('node:net');
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect(router.port, '127.0.0.1', () =>
        socket.write('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (c) => {
        text += c.toString();
      });
      socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    expect(status).toMatch(/^HTTP\/1\.1 (302|404) /);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('should answer /health and /ready', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/ready`)).json()).toEqual({ status: 'ready' });
  });

  it('should offer Apollo Sandbox in development and allow Studio by CORS', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    const page = await fetch(router.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/sandbox/i);

    const preflight = await fetch(router.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://studio.apollographql.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    const other = await fetch(router.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A frontend dev server on this machine, on any port.
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000']) {
      const local = await fetch(router.url, { method: 'OPTIONS', headers: { origin } });
      expect(local.headers.get('access-control-allow-origin')).toBe(origin);
    }
    for (const origin of [
      'http://localhost.evil.example:5173',
      'http://localhost:5173.evil.example',
      'https://localhost:x',
    ]) {
      const lookalike = await fetch(router.url, { method: 'OPTIONS', headers: { origin } });
      expect(lookalike.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('should pick up a changed supergraph file without a restart', async () => {
    const before = await postGraphQL(router.url, '{ added }');
    expect(before.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    writeSupergraph(dir, 'http://127.0.0.1:9/graphql', 'added: String');
    let answer: unknown;
    for (let i = 0; i < 50 && answer === undefined; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      const after = await postGraphQL(router.url, '{ added }');
      answer = (after.body.data as { added?: string } | undefined)?.added;
    }
    expect(answer).toBe('new field');
  });
});

describe('router in production', () => {
  it('should disable introspection and the landing page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-prod-'));
    const echo = await startEchoSubgraph();
    const router = await startRouter(
      loadConfig({
        NODE_ENV: 'production',
        PORT: '0',
        SUPERGRAPH_PATH: writeSupergraph(dir, echo.url),
        JWT_SECRET: SECRET,
        ROUTER_SUBGRAPH_SECRET: 'c4a8f1e93b7d2065a1c3e5f7092b4d6e8f0a1c3e5b7d9f2a4c6e8b0d1f3a5c7e',
      }),
      logger,
    );
    try {
      const introspection = await postGraphQL(router.url, '{ __schema { queryType { name } } }');
      expect(introspection.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const page = await fetch(router.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/sandbox/i);
      const root = await fetch(`http://127.0.0.1:${router.port}/`, { redirect: 'manual' });
      expect(root.status).toBe(404);
      const preflight = await fetch(router.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://studio.apollographql.com', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      const local = await fetch(router.url, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173' },
      });
      expect(local.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await router.stop();
      await echo.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Starts the echo subgraph and a router over it with extra env; stops both afterwards. */
async function withRouter(env: NodeJS.ProcessEnv, run: (router: RunningRouter) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'router-env-'));
  const echo = await startEchoSubgraph();
  const router = await startRouter(
    loadConfig({ PORT: '0', SUPERGRAPH_PATH: writeSupergraph(dir, echo.url), ...env }),
    logger,
  );
  try {
    await run(router);
  } finally {
    await router.stop();
    await echo.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('router behind a trusted proxy', () => {
  it('should take the rightmost untrusted X-Forwarded-For hop when the peer is a trusted proxy', async () => {
    await withRouter({ JWT_SECRET: SECRET, TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' }, async (router) => {
      const seen = async (headers: Record<string, string>) =>
        (await postGraphQL(router.url, '{ seen { clientAddress } }', {}, headers)).body.data;
      // The left end is what the client wrote; the proxy appended the address it saw.
      expect(
        await seen({ 'x-forwarded-for': '6.6.6.6, 203.0.113.9', 'x-client-address': '6.6.6.6' }),
      ).toEqual({
        seen: { clientAddress: '203.0.113.9' },
      });
      expect(await seen({ 'x-forwarded-for': '203.0.113.9, 10.1.2.3' })).toEqual({
        seen: { clientAddress: '203.0.113.9' },
      });
      expect(await seen({})).toEqual({ seen: { clientAddress: '127.0.0.1' } });
    });
  });
});

describe('client address', () => {
  const none = parseTrustedProxies('').list;
  const trusted = parseTrustedProxies('10.0.0.1, 192.168.0.0/16, fd00::/8').list;

  it('should use the peer when it is not a trusted proxy', () => {
    expect(clientAddressOf('::ffff:198.51.100.4', '203.0.113.9', none)).toBe('198.51.100.4');
    expect(clientAddressOf('10.0.0.1', '203.0.113.9', none)).toBe('10.0.0.1');
    expect(clientAddressOf(undefined, '203.0.113.9', trusted)).toBeUndefined();
  });

  it('should walk X-Forwarded-For from the right through trusted proxies only', () => {
    expect(clientAddressOf('10.0.0.1', '1.1.1.1, 203.0.113.9, 192.168.4.4', trusted)).toBe('203.0.113.9');
    expect(clientAddressOf('10.0.0.1', ['1.1.1.1', '[2001:db8::7]:443'], trusted)).toBe('2001:db8::7');
    expect(clientAddressOf('fd00::1', '203.0.113.9:5555', trusted)).toBe('203.0.113.9');
    // Every hop trusted: the leftmost is the best there is.
    expect(clientAddressOf('10.0.0.1', '192.168.1.1', trusted)).toBe('192.168.1.1');
    // A malformed hop stops the walk at the proxy that passed it on.
    expect(clientAddressOf('10.0.0.1', '203.0.113.9, evil', trusted)).toBe('10.0.0.1');
  });

  it('should report invalid TRUSTED_PROXIES entries', () => {
    expect(parseTrustedProxies('10.0.0.1, nope, 10.0.0.0/33, ::1/129').problems).toHaveLength(3);
  });
});

describe('router with JWKS', () => {
  it('should verify EdDSA tokens through the JWKS and refuse HS256 ones, even signed with the public key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const claims = { issuer: 'fitness-users', audience: 'fitness-api' };
    const signing = { ...claims, algorithm: 'EdDSA' as const, signingKey: { kid: 'k1', privateKey } };
    const jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(publicJwks(signing)));
    });
    const jwksPort = await listen(jwks, 0, '127.0.0.1');
    try {
      await withRouter(
        { JWT_ALG: 'EdDSA', JWT_JWKS_URL: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json` },
        async (router) => {
          const { token } = await createTokenIssuer({ ...signing, ttlSeconds: 600 })('user-7');
          const ok = await postGraphQL(router.url, '{ seen { authorization } }', {}, bearer(token));
          expect(ok.status).toBe(200);
          expect(ok.body.data).toEqual({ seen: { authorization: `Bearer ${token}` } });

          const hs = await postGraphQL(
            router.url,
            '{ seen { authorization } }',
            {},
            bearer((await issue('u')).token),
          );
          expect(hs.status).toBe(401);

          const publicPem = createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString();
          // The public key is public: an attacker can HMAC a token with its PEM as the secret.
          const now = Math.floor(Date.now() / 1000);
          const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
          const unsigned = `${part({ alg: 'HS256', kid: 'k1' })}.${part({ sub: 'admin', iss: claims.issuer, aud: claims.audience, iat: now, exp: now + 600 })}`;
          const confused = `${unsigned}.${createHmac('sha256', publicPem).update(unsigned).digest('base64url')}`;
          const refused = await postGraphQL(router.url, '{ seen { authorization } }', {}, bearer(confused));
          expect(refused.status).toBe(401);
          expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
        },
      );
    } finally {
      await closeHttpServer(jwks);
    }
  });
});
