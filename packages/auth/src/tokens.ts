import { errors, jwtVerify, SignJWT } from 'jose';

export interface TokenSettings {
  /** HS256 shared secret; at least 32 bytes. */
  secret: string;
  /** @default 'fitness-users' */
  issuer: string;
  /** @default 'fitness-api' */
  audience: string;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export interface VerifiedToken {
  userId: string;
  expiresAt: Date;
}

/** Why a token was refused; the message is safe to show to a client. */
export class InvalidTokenError extends Error {}

const ALGORITHM = 'HS256';

function keyOf(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < 32) throw new Error('JWT secret must be at least 32 bytes long.');
  return key;
}

export function createTokenIssuer(settings: TokenSettings & { ttlSeconds: number }) {
  const key = keyOf(settings.secret);
  return async (userId: string, now = new Date()): Promise<IssuedToken> => {
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + settings.ttlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key);
    return { token, expiresAt: new Date(exp * 1000) };
  };
}

export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

/**
 * Verifies signature, algorithm (HS256 only, so `alg: none` and key confusion are
 * refused), issuer, audience and expiry, with 5 s of clock tolerance.
 */
export function createTokenVerifier(settings: TokenSettings): TokenVerifier {
  const key = keyOf(settings.secret);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [ALGORITHM],
        issuer: settings.issuer,
        audience: settings.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        clockTolerance: 5,
      });
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.exp === undefined) {
        throw new InvalidTokenError('Token has no subject.');
      }
      return { userId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      if (error instanceof errors.JWTExpired) throw new InvalidTokenError('Token has expired.');
      throw new InvalidTokenError('Token is invalid.');
    }
  };
}
