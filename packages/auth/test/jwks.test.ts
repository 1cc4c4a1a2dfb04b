import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEVELOPMENT_ROUTER_SECRET } from '@fitness/server-kit';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AsymmetricAlgorithm,
  type AsymmetricTokenSettings,
  createTokenIssuer,
  createTokenVerifier,
  DEVELOPMENT_JWT_SECRET,
  InvalidTokenError,
  KeySetUnavailableError,
  type PublicJwk,
  publicJwks,
  tokenSettingsFrom,
  viewerFromAuthorization,
} from '../src/index.js';

const claims = { issuer: 'fitness-users', audience: 'fitness-api' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

function newKey(algorithm: AsymmetricAlgorithm): KeyObject {
  return algorithm === 'EdDSA'
    ? generateKeyPairSync('ed25519').privateKey
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** The settings users would have for one key, and its published JWK. */
function signer(algorithm: AsymmetricAlgorithm, kid: string, privateKey = newKey(algorithm)) {
  const settings: AsymmetricTokenSettings = { ...claims, algorithm, signingKey: { kid, privateKey } };
  const jwk = publicJwks(settings)?.keys[0];
  if (!jwk) throw new Error('no public JWK');
  return { settings, jwk, privateKey, issue: createTokenIssuer({ ...settings, ttlSeconds: 600 }) };
}

/** A JWKS endpoint whose key set a test changes at will, counting fetches. */
async function startJwksServer() {
  let keys: PublicJwk[] = [];
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    serve: (next: PublicJwk[]) => {
      keys = next;
    },
    fetches: () => fetches,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['EdDSA', 'RS256'] as const)('%s tokens through a JWKS', (algorithm) => {
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  const current = signer(algorithm, 'key-1');
  const verifierSettings = (cacheMaxAgeMs = 600_000): AsymmetricTokenSettings => ({
    ...claims,
    algorithm,
    jwksUrl: jwks.url,
    // No cooldown, so that a rotation is seen at once instead of after 30 s.
    jwksCache: { cooldownMs: 0, cacheMaxAgeMs },
  });

  beforeAll(async () => {
    jwks = await startJwksServer();
  });
  afterAll(async () => {
    await jwks.stop();
  });

  it('should verify a token it issued, fetching the key set once for many tokens', async () => {
    jwks.serve([current.jwk]);
    const verify = createTokenVerifier(verifierSettings());
    const before = jwks.fetches();
    for (const id of ['user-1', 'user-2', 'user-3']) {
      const { token, expiresAt } = await current.issue(id);
      expect(await verify(token)).toEqual({ userId: id, issuedAt: expect.any(Date), expiresAt });
    }
    expect(jwks.fetches() - before).toBe(1);
    const [header] = (await current.issue('user-1')).token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      alg: algorithm,
      typ: 'JWT',
      kid: 'key-1',
    });
  });

  it('should publish only public key parameters', () => {
    const published = publicJwks({ ...current.settings, previousKeys: [] });
    for (const jwk of published?.keys ?? []) {
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk).toMatchObject({ kid: 'key-1', alg: algorithm, use: 'sig' });
    }
  });

  it('should verify a token from a new key after refetching, and refuse a removed key', async () => {
    jwks.serve([current.jwk]);
    const verify = createTokenVerifier(verifierSettings(300));
    const old = await current.issue('user-1');
    expect((await verify(old.token)).userId).toBe('user-1');

    const next = signer(algorithm, 'key-2');
    const fresh = await next.issue('user-1');
    await expect(verify(fresh.token)).rejects.toThrow(InvalidTokenError);
    // The rotation publishes the new key beside the old one: an unknown kid refetches.
    jwks.serve([next.jwk, current.jwk]);
    expect((await verify(fresh.token)).userId).toBe('user-1');
    expect((await verify(old.token)).userId).toBe('user-1');

    // The old key is withdrawn: once the cached set is stale, its tokens are refused.
    jwks.serve([next.jwk]);
    await sleep(350);
    await expect(verify(old.token)).rejects.toThrow('Token is invalid.');
    expect((await verify(fresh.token)).userId).toBe('user-1');
  });

  it('should refuse an HS256 token signed with the public key (key confusion)', async () => {
    jwks.serve([current.jwk]);
    const verify = createTokenVerifier(verifierSettings());
    // The attacker knows the public key: it is published. Used as an HMAC secret it must not pass.
    const publicPem = publicPemOf(current.privateKey);
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'key-1' })
      .setSubject('admin')
      .setIssuer(claims.issuer)
      .setAudience(claims.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(publicPem));
    await expect(verify(forged)).rejects.toThrow('Token is invalid.');
  });

  it('should refuse alg none', async () => {
    jwks.serve([current.jwk]);
    const verify = createTokenVerifier(verifierSettings());
    const now = Math.floor(Date.now() / 1000);
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'key-1' }));
    const payload = base64url.encode(
      JSON.stringify({ sub: 'admin', iss: claims.issuer, aud: claims.audience, iat: now, exp: now + 60 }),
    );
    await expect(verify(`${header}.${payload}.`)).rejects.toThrow(InvalidTokenError);
  });

  it('should refuse wrong issuer, wrong audience, expired, tampered and foreign-key tokens', async () => {
    jwks.serve([current.jwk]);
    const verify = createTokenVerifier(verifierSettings());
    const withClaims = (overrides: Partial<typeof claims>) =>
      createTokenIssuer({ ...current.settings, ...overrides, ttlSeconds: 600 })('user-1');
    await expect(verify((await withClaims({ issuer: 'someone-else' })).token)).rejects.toThrow(
      'Token is invalid.',
    );
    await expect(verify((await withClaims({ audience: 'other-api' })).token)).rejects.toThrow(
      'Token is invalid.',
    );
    const expired = await current.issue('user-1', new Date(Date.now() - 3600_000));
    await expect(verify(expired.token)).rejects.toThrow('Token has expired.');

    const { token } = await current.issue('user-1');
    const [h, p, s] = token.split('.');
    const body = JSON.parse(Buffer.from(p ?? '', 'base64url').toString());
    const tampered = `${h}.${base64url.encode(JSON.stringify({ ...body, sub: 'user-2' }))}.${s}`;
    await expect(verify(tampered)).rejects.toThrow('Token is invalid.');

    // Same kid, another private key: the signature does not match the published key.
    const impostor = signer(algorithm, 'key-1');
    await expect(verify((await impostor.issue('user-1')).token)).rejects.toThrow('Token is invalid.');
  });

  it('should refuse a token of the other asymmetric algorithm', async () => {
    const other = signer(algorithm === 'EdDSA' ? 'RS256' : 'EdDSA', 'key-9');
    jwks.serve([current.jwk, other.jwk]);
    const verify = createTokenVerifier(verifierSettings());
    await expect(verify((await other.issue('user-1')).token)).rejects.toThrow('Token is invalid.');
  });

  it('should verify its own tokens without a JWKS URL when it holds the keys (users)', async () => {
    const previous = signer(algorithm, 'key-0');
    const settings: AsymmetricTokenSettings = {
      ...current.settings,
      previousKeys: [{ kid: 'key-0', publicKey: createPublicKey(previous.privateKey) }],
    };
    const verify = createTokenVerifier(settings);
    expect((await verify((await current.issue('a')).token)).userId).toBe('a');
    expect((await verify((await previous.issue('b')).token)).userId).toBe('b');
    expect(publicJwks(settings)?.keys.map((k) => k.kid)).toEqual(['key-1', 'key-0']);
  });
});

describe('JWKS unavailable', () => {
  it('should be a server failure, not an invalid token, when the key set cannot be fetched', async () => {
    const jwks = await startJwksServer();
    const url = jwks.url;
    await jwks.stop();
    const current = signer('EdDSA', 'key-1');
    const verify = createTokenVerifier({ ...claims, algorithm: 'EdDSA', jwksUrl: url });
    const { token } = await current.issue('user-1');
    await expect(verify(token)).rejects.toBeInstanceOf(KeySetUnavailableError);
    // Not a 401: the client's token may be fine; the service says it failed instead.
    const error = await viewerFromAuthorization(`Bearer ${token}`, verify).catch((e) => e);
    expect(error).toBeInstanceOf(KeySetUnavailableError);
  });
});

function publicPemOf(privateKey: KeyObject): string {
  return String(createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }));
}

describe('tokenSettingsFrom', () => {
  const base = { JWT_ISSUER: 'fitness-users', JWT_AUDIENCE: 'fitness-api' };
  const pem = (key: KeyObject) => String(key.export({ format: 'pem', type: 'pkcs8' }));
  const ed = newKey('EdDSA');

  it('should keep HS256 with JWT_SECRET when no key or JWKS is configured', () => {
    const secret = randomBytes(32).toString('hex');
    const settings = tokenSettingsFrom({ ...base, JWT_SECRET: secret }, true);
    expect(settings).toMatchObject({ secret, usingDevSecret: false });
    expect(settings.algorithm).toBeUndefined();
  });

  it('should refuse the development secrets and low-entropy ones in production only', () => {
    for (const weak of [DEVELOPMENT_JWT_SECRET, DEVELOPMENT_ROUTER_SECRET, 'a'.repeat(32), 'ab'.repeat(20)]) {
      expect(() => tokenSettingsFrom({ ...base, JWT_SECRET: weak }, true)).toThrow(/^JWT_SECRET /);
      expect(tokenSettingsFrom({ ...base, JWT_SECRET: weak }, false)).toMatchObject({ secret: weak });
    }
    expect(() => tokenSettingsFrom(base, true)).toThrow('JWT_SECRET must be set');
    expect(tokenSettingsFrom(base, false)).toMatchObject({
      secret: DEVELOPMENT_JWT_SECRET,
      usingDevSecret: true,
    });
  });

  it('should sign with the private key in users, inferring the algorithm and a thumbprint kid', () => {
    const settings = tokenSettingsFrom({ ...base, JWT_PRIVATE_KEY: pem(ed) }, true, 'issuer');
    expect(settings).toMatchObject({ algorithm: 'EdDSA', usingDevSecret: false });
    expect(publicJwks(settings)?.keys[0]?.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('should accept a PEM written on one line with \\n escapes', () => {
    const oneLine = pem(ed).replace(/\n/g, '\\n');
    const settings = tokenSettingsFrom(
      { ...base, JWT_ALG: 'EdDSA', JWT_PRIVATE_KEY: oneLine, JWT_KID: 'k1' },
      true,
      'issuer',
    );
    expect(publicJwks(settings)?.keys[0]?.kid).toBe('k1');
  });

  it('should publish the previous public key for a rotation', () => {
    const previous = newKey('EdDSA');
    const settings = tokenSettingsFrom(
      {
        ...base,
        JWT_PRIVATE_KEY: pem(ed),
        JWT_KID: 'new',
        JWT_PREVIOUS_PUBLIC_KEY: publicPemOf(previous),
        JWT_PREVIOUS_KID: 'old',
      },
      true,
      'issuer',
    );
    expect(publicJwks(settings)?.keys.map((k) => k.kid)).toEqual(['new', 'old']);
  });

  it('should refuse a key that does not fit JWT_ALG, without quoting the key', () => {
    const attempt = () =>
      tokenSettingsFrom({ ...base, JWT_ALG: 'RS256', JWT_PRIVATE_KEY: pem(ed) }, true, 'issuer');
    expect(attempt).toThrow('must be an RSA key');
    expect(() => tokenSettingsFrom({ ...base, JWT_PRIVATE_KEY: 'not a key' }, true, 'issuer')).toThrow(
      /^JWT_PRIVATE_KEY is not a readable PEM/,
    );
  });

  it('should make verifiers name the algorithm and keep the private key out of them', () => {
    const url = 'http://users:4001/.well-known/jwks.json';
    expect(() => tokenSettingsFrom({ ...base, JWT_JWKS_URL: url }, true)).toThrow(
      'JWT_ALG must be EdDSA or RS256',
    );
    expect(() => tokenSettingsFrom({ ...base, JWT_ALG: 'HS256', JWT_JWKS_URL: url }, true)).toThrow();
    expect(() => tokenSettingsFrom({ ...base, JWT_ALG: 'EdDSA' }, true)).toThrow('needs JWT_JWKS_URL');
    expect(() =>
      tokenSettingsFrom({ ...base, JWT_ALG: 'EdDSA', JWT_JWKS_URL: url, JWT_PRIVATE_KEY: pem(ed) }, true),
    ).toThrow('users service only');
    const settings = tokenSettingsFrom({ ...base, JWT_ALG: 'RS256', JWT_JWKS_URL: url }, true);
    expect(settings).toMatchObject({ algorithm: 'RS256', jwksUrl: url });
  });

  it('should not print key material when the settings are serialized', () => {
    const settings = tokenSettingsFrom({ ...base, JWT_PRIVATE_KEY: pem(ed) }, true, 'issuer');
    const d = (ed.export({ format: 'jwk' }) as { d: string }).d;
    expect(JSON.stringify(settings)).not.toContain(d);
    expect(JSON.stringify(settings)).not.toContain('PRIVATE KEY');
  });
});
