import {
  type ConfigChecks,
  DEVELOPMENT_ROUTER_SECRET,
  optionalUrl,
  SECRET_MIN_LENGTH,
  weakSecretReason,
} from '@fitness/server-kit';
import { z } from 'zod';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  publishedKeyFromPem,
  signingKeyFromPem,
} from './keys.js';
import type { TokenSettings } from './tokens.js';

/**
 * A development-only secret, so that each service runs alone on a bare machine.
 * Refused when NODE_ENV=production: there JWT_SECRET must be set, and strong.
 */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-do-not-use-in-production';

/** Unset and empty both mean "not configured", as with the store URLs. */
const optionalText = () =>
  z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined));

/** The JWT_* variables every service reads, to be merged into its config schema. */
export const authEnv = {
  JWT_SECRET: z
    .string()
    .min(SECRET_MIN_LENGTH, `must be at least ${SECRET_MIN_LENGTH} characters`)
    .optional(),
  JWT_ISSUER: z.string().min(1).default('fitness-users'),
  JWT_AUDIENCE: z.string().min(1).default('fitness-api'),
  /** HS256 (default), or EdDSA / RS256 with JWKS; verifiers must name it to use JWKS. */
  JWT_ALG: z.enum(['HS256', ...ASYMMETRIC_ALGORITHMS]).optional(),
  /** Verifiers (router, subgraphs): where users publishes its public keys. */
  JWT_JWKS_URL: optionalUrl(),
  /** users only: the PKCS8 PEM private key to sign with; never give it to another service. */
  JWT_PRIVATE_KEY: optionalText(),
  /** users only: the signing key's id; the key's RFC 7638 thumbprint by default. */
  JWT_KID: optionalText(),
  /** users only: the public key (SPKI PEM) a rotation replaced, still published until its tokens expire. */
  JWT_PREVIOUS_PUBLIC_KEY: optionalText(),
  JWT_PREVIOUS_KID: optionalText(),
};

export interface AuthEnv {
  JWT_SECRET?: string | undefined;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_ALG?: 'HS256' | AsymmetricAlgorithm | undefined;
  JWT_JWKS_URL?: string | undefined;
  JWT_PRIVATE_KEY?: string | undefined;
  JWT_KID?: string | undefined;
  JWT_PREVIOUS_PUBLIC_KEY?: string | undefined;
  JWT_PREVIOUS_KID?: string | undefined;
}

/**
 * Who the service is: the users service issues tokens (and may hold the private
 * key); every other service only verifies them.
 */
export type TokenRole = 'issuer' | 'verifier';

/**
 * Turns the JWT_* variables into the settings createTokenVerifier and createTokenIssuer
 * take. Asymmetric mode is on when JWT_PRIVATE_KEY (users) or JWT_JWKS_URL (verifiers)
 * is set; otherwise HS256 with JWT_SECRET. Keys are parsed here, so a bad key fails
 * start-up, and only as KeyObjects, which print no key material if ever logged.
 */
export function tokenSettingsFrom(
  env: AuthEnv,
  production: boolean,
  role: TokenRole = 'verifier',
): TokenSettings & { usingDevSecret: boolean } {
  const claims = { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE };
  const asymmetricAlg = env.JWT_ALG === 'HS256' ? undefined : env.JWT_ALG;
  const wantsAsymmetric = Boolean(asymmetricAlg || env.JWT_PRIVATE_KEY || env.JWT_JWKS_URL);
  if (env.JWT_ALG === 'HS256' && (env.JWT_PRIVATE_KEY || env.JWT_JWKS_URL)) {
    throw new Error('JWT_ALG=HS256 cannot be combined with JWT_PRIVATE_KEY or JWT_JWKS_URL.');
  }

  if (wantsAsymmetric && role === 'issuer') {
    if (!env.JWT_PRIVATE_KEY) throw new Error(`JWT_ALG=${asymmetricAlg} needs JWT_PRIVATE_KEY in users.`);
    const { key, algorithm } = signingKeyFromPem(env.JWT_PRIVATE_KEY, asymmetricAlg, env.JWT_KID);
    const previousKeys = env.JWT_PREVIOUS_PUBLIC_KEY
      ? [publishedKeyFromPem(env.JWT_PREVIOUS_PUBLIC_KEY, algorithm, env.JWT_PREVIOUS_KID)]
      : [];
    if (previousKeys[0]?.kid === key.kid) {
      throw new Error('JWT_PREVIOUS_KID must differ from JWT_KID: verifiers pick keys by kid.');
    }
    return { ...claims, algorithm, signingKey: key, previousKeys, usingDevSecret: false };
  }

  if (wantsAsymmetric) {
    // The private key lives in users alone; a copy anywhere else is a leak waiting to happen.
    if (env.JWT_PRIVATE_KEY) throw new Error('JWT_PRIVATE_KEY belongs to the users service only.');
    if (!asymmetricAlg) {
      throw new Error('JWT_ALG must be EdDSA or RS256 with JWT_JWKS_URL: the one algorithm accepted.');
    }
    if (!env.JWT_JWKS_URL) throw new Error(`JWT_ALG=${asymmetricAlg} needs JWT_JWKS_URL.`);
    return { ...claims, algorithm: asymmetricAlg, jwksUrl: env.JWT_JWKS_URL, usingDevSecret: false };
  }

  if (!env.JWT_SECRET && production) throw new Error('JWT_SECRET must be set when NODE_ENV=production.');
  // Both published defaults: a copied router secret is no better than the JWT one.
  const weak =
    production && env.JWT_SECRET
      ? weakSecretReason(env.JWT_SECRET, [DEVELOPMENT_JWT_SECRET, DEVELOPMENT_ROUTER_SECRET])
      : undefined;
  if (weak) throw new Error(`JWT_SECRET ${weak}.`);
  return {
    ...claims,
    secret: env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
    usingDevSecret: !env.JWT_SECRET,
  };
}

/**
 * tokenSettingsFrom inside a service's config: a problem is listed with the
 * configuration's others rather than thrown.
 */
export function checkedTokenSettings(
  env: AuthEnv,
  production: boolean,
  checks: ConfigChecks,
  role: TokenRole = 'verifier',
): ReturnType<typeof tokenSettingsFrom> {
  return checks.attempt(Object.keys(authEnv), () => tokenSettingsFrom(env, production, role));
}
