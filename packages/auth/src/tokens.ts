import { isRegion, type Region } from '@fitness/server-kit';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JWTVerifyGetKey,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from 'jose';
import type { AsymmetricAlgorithm, PublicJwk, PublishedKey, SigningKey } from './keys.js';
import { publicJwkOf } from './keys.js';
import type { RevocationList } from './revocations.js';

interface ClaimSettings {
  /** @default 'fitness-users' */
  issuer: string;
  /** @default 'fitness-api' */
  audience: string;
}

/** The default: one shared HS256 secret in every service. */
export interface SymmetricTokenSettings extends ClaimSettings {
  /** @default 'HS256' */
  algorithm?: 'HS256';
  /** HS256 shared secret; at least 32 bytes. */
  secret: string;
}

/** How a verifier caches the remote key set; jose's own defaults otherwise. */
export interface JwksCacheOptions {
  /** Least time between two fetches, also when an unknown kid asks for one. @default 30_000 */
  cooldownMs?: number;
  /** Age after which the set is fetched again even when every kid is known. @default 600_000 */
  cacheMaxAgeMs?: number;
  /** @default 5_000 */
  timeoutMs?: number;
}

/**
 * EdDSA (Ed25519) or RS256. users holds `signingKey` (and may publish `previousKeys`);
 * every other service only has `jwksUrl`, where users publishes the public keys.
 */
export interface AsymmetricTokenSettings extends ClaimSettings {
  algorithm: AsymmetricAlgorithm;
  /** Verifiers fetch public keys here (users' GET /.well-known/jwks.json). */
  jwksUrl?: string;
  jwksCache?: JwksCacheOptions;
  /** Only the users service has it: it signs, and verifies with its own key set. */
  signingKey?: SigningKey;
  /** Verification-only keys published beside the signing key, e.g. the one before a rotation. */
  previousKeys?: PublishedKey[];
}

export type TokenSettings = SymmetricTokenSettings | AsymmetricTokenSettings;

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export interface VerifiedToken {
  userId: string;
  /**
   * The `region` claim; absent when the token has none (issued before the claim
   * existed) or names a region this verifier does not know.
   */
  region?: Region;
  /** From `iat`, to the millisecond for tokens issued since revocation exists (see the issuer). */
  issuedAt: Date;
  expiresAt: Date;
}

/** Who a token is issued to: a user id, or the id with the custom claims users adds. */
export type TokenSubject = string | { userId: string; region?: Region | null };

/** Why a token was refused; the message is safe to show to a client. */
export class InvalidTokenError extends Error {}

/**
 * The key set could not be fetched: the token may well be good, so this is the
 * server's failure (HTTP 500, logged), not the caller's, and must not read as 401.
 */
export class KeySetUnavailableError extends Error {}

const HS256 = 'HS256';

export function isAsymmetric(settings: TokenSettings): settings is AsymmetricTokenSettings {
  return settings.algorithm === 'EdDSA' || settings.algorithm === 'RS256';
}

function keyOf(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < 32) throw new Error('JWT secret must be at least 32 bytes long.');
  return key;
}

/**
 * The public keys users publishes at /.well-known/jwks.json: the signing key's
 * public half first, then previous keys; undefined with HS256, which has none.
 */
export function publicJwks(settings: TokenSettings): { keys: PublicJwk[] } | undefined {
  if (!isAsymmetric(settings) || !settings.signingKey) return undefined;
  const { signingKey, algorithm } = settings;
  const keys = [publicJwkOf(signingKey.privateKey, signingKey.kid, algorithm)];
  for (const previous of settings.previousKeys ?? []) {
    if (previous.kid !== signingKey.kid) keys.push(publicJwkOf(previous.publicKey, previous.kid, algorithm));
  }
  return { keys };
}

export type TokenIssuer = (subject: TokenSubject, now?: Date) => Promise<IssuedToken>;

/** Signs tokens with the HS256 secret, or with the private key when one is configured. */
export function createTokenIssuer(settings: TokenSettings & { ttlSeconds: number }): TokenIssuer {
  let key: Uint8Array | KeyObject;
  let header: { alg: string; typ: 'JWT'; kid?: string };
  if (isAsymmetric(settings)) {
    if (!settings.signingKey) throw new Error(`Issuing ${settings.algorithm} tokens needs JWT_PRIVATE_KEY.`);
    key = settings.signingKey.privateKey;
    // The kid lets verifiers pick the key, and tells them to refetch the set after a rotation.
    header = { alg: settings.algorithm, typ: 'JWT', kid: settings.signingKey.kid };
  } else {
    key = keyOf(settings.secret);
    header = { alg: HS256, typ: 'JWT' };
  }
  return async (subject, now = new Date()) => {
    const { userId, region = null } =
      typeof subject === 'string' ? { userId: subject, region: null } : subject;
    // NumericDate may carry a fraction (RFC 7519): milliseconds let a revocation
    // ("every token issued before now") tell a token issued just before it from one
    // issued just after, within the same second.
    const iat = now.getTime() / 1000;
    const exp = Math.floor(iat) + settings.ttlSeconds;
    // Services read the region from the token (events, region-scoped data) instead of
    // calling users on every request; it is fixed at sign-up, so it cannot go stale.
    const token = await new SignJWT(region ? { region } : {})
      .setProtectedHeader(header)
      .setSubject(userId)
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key);
    return { token, expiresAt: new Date(exp * 1000) };
  };
}

/** `requestId`: the request the token came with, for a log line the check writes (the revocation list's outage). */
export type TokenVerifier = (token: string, requestId?: string) => Promise<VerifiedToken>;

export interface TokenVerifierOptions {
  /**
   * Consulted after the signature and claims have been verified (never for a
   * forged token): a revoked token is refused like an invalid one.
   */
  revocations?: RevocationList;
}

/** Errors of jose's remote key set that say something about the token, not the fetch. */
function isVerdictOnToken(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

function remoteKeySet(url: string, cache: JwksCacheOptions = {}): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(new URL(url), {
    ...(cache.cooldownMs !== undefined ? { cooldownDuration: cache.cooldownMs } : {}),
    ...(cache.cacheMaxAgeMs !== undefined ? { cacheMaxAge: cache.cacheMaxAgeMs } : {}),
    timeoutDuration: cache.timeoutMs ?? 5_000,
  });
  return async (header, token) => {
    try {
      return await jwks(header, token);
    } catch (error) {
      if (isVerdictOnToken(error)) throw error;
      throw new KeySetUnavailableError(`Could not fetch the JWKS from ${url}.`, { cause: error });
    }
  };
}

/**
 * Tokens verified lately, so that a client's next request with the same token skips
 * the signature check (an HMAC through WebCrypto, the largest part of a small
 * request's CPU). HS256 only: its secret cannot change under a running service. An
 * entry serves until the token expires, and at most a minute; only verified tokens are
 * kept, and revocation is still checked on every request. Bounded: the oldest
 * entries go first.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { verified: VerifiedToken; until: number }>();

  constructor(
    private readonly max = 10_000,
    private readonly maxAgeMs = 60_000,
  ) {}

  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (Date.now() < entry.until) return entry.verified;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, verified: VerifiedToken): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, {
      verified,
      until: Math.min(verified.expiresAt.getTime(), Date.now() + this.maxAgeMs),
    });
  }
}

/**
 * Verifies signature, algorithm, issuer, audience and expiry, with 5 s of clock
 * tolerance. Exactly one algorithm is accepted: HS256 with the shared secret, or
 * the configured asymmetric one with keys from the JWKS. That pin is what refuses
 * `alg: none` and key confusion (an HS256 token "signed" with a public key).
 * users, which holds the keys, verifies against its own key set without HTTP.
 */
export function createTokenVerifier(
  settings: TokenSettings,
  verifierOptions: TokenVerifierOptions = {},
): TokenVerifier {
  const { revocations } = verifierOptions;
  const algorithms = [isAsymmetric(settings) ? settings.algorithm : HS256];
  let verifyWith: (token: string) => ReturnType<typeof jwtVerify>;
  const options = {
    algorithms,
    issuer: settings.issuer,
    audience: settings.audience,
    requiredClaims: ['sub', 'exp', 'iat'],
    clockTolerance: 5,
  };
  if (isAsymmetric(settings)) {
    const local = publicJwks(settings);
    let keys: JWTVerifyGetKey;
    if (local) keys = createLocalJWKSet(local);
    else if (settings.jwksUrl) keys = remoteKeySet(settings.jwksUrl, settings.jwksCache);
    else throw new Error(`Verifying ${settings.algorithm} tokens needs JWT_JWKS_URL.`);
    verifyWith = (token) => jwtVerify(token, keys, options);
  } else {
    const key = keyOf(settings.secret);
    verifyWith = (token) => jwtVerify(token, key, options);
  }
  const verified = async (token: string): Promise<VerifiedToken> => {
    try {
      const { payload } = await verifyWith(token);
      if (
        typeof payload.sub !== 'string' ||
        payload.sub.length === 0 ||
        payload.exp === undefined ||
        payload.iat === undefined
      ) {
        throw new InvalidTokenError('Token has no subject.');
      }
      // A region this verifier does not know (a newer users service) is not a reason to
      // refuse an otherwise valid token: the caller is simply treated as region-less.
      return {
        userId: payload.sub,
        ...(isRegion(payload.region) ? { region: payload.region } : {}),
        issuedAt: new Date(Math.round(payload.iat * 1000)),
        expiresAt: new Date(payload.exp * 1000),
      };
    } catch (error) {
      if (error instanceof InvalidTokenError || error instanceof KeySetUnavailableError) throw error;
      if (error instanceof errors.JWTExpired) throw new InvalidTokenError('Token has expired.');
      throw new InvalidTokenError('Token is invalid.');
    }
  };
  // HS256 only: with a JWKS, a withdrawn key must refuse its tokens at the next refetch.
  const cache = isAsymmetric(settings) ? undefined : new VerifiedTokens();
  const cached = async (token: string): Promise<VerifiedToken> => {
    if (!cache) return verified(token);
    const known = cache.get(token);
    if (known) return known;
    const result = await verified(token);
    cache.set(token, result);
    return result;
  };
  if (!revocations) return cached;
  return async (token, requestId) => {
    const result = await cached(token);
    if (await revocations.isRevoked(result.userId, result.issuedAt, requestId)) {
      throw new InvalidTokenError('Token has been revoked.');
    }
    return result;
  };
}
