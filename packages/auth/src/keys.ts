import { createHash, createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The asymmetric algorithms a deployment may choose; one per deployment, never mixed. */
export const ASYMMETRIC_ALGORITHMS = ['EdDSA', 'RS256'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** The private key users signs with, and the id verifiers find its public half by. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** A public key published in the JWKS for verification only (the previous key during a rotation). */
export interface PublishedKey {
  kid: string;
  publicKey: KeyObject;
}

/** A public JWK as published: key parameters plus kid, alg and use, nothing private. */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: AsymmetricAlgorithm;
  use: 'sig';
  crv?: string;
  x?: string;
  n?: string;
  e?: string;
}

/** RSA keys below this size are refused: 2048 bits is the floor of current guidance. */
const MIN_RSA_BITS = 2048;

/**
 * Env files often carry a PEM on one line with literal `\n`; restoring the line
 * breaks lets operators paste either form.
 */
function pemOf(text: string): string {
  return text.includes('\\n') ? text.replace(/\\n/g, '\n') : text;
}

/** Throws unless the key is of the type the algorithm signs with. Messages never quote the key. */
export function assertKeyFits(key: KeyObject, algorithm: AsymmetricAlgorithm, name: string): void {
  const type = key.asymmetricKeyType;
  if (algorithm === 'EdDSA' && type !== 'ed25519') {
    throw new Error(`${name} must be an Ed25519 key for JWT_ALG=EdDSA (got ${type ?? 'unknown'}).`);
  }
  if (algorithm === 'RS256') {
    if (type !== 'rsa')
      throw new Error(`${name} must be an RSA key for JWT_ALG=RS256 (got ${type ?? 'unknown'}).`);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new Error(`${name} must be an RSA key of at least ${MIN_RSA_BITS} bits.`);
  }
}

/** The algorithm a private or public key signs with, for a users service that was not told. */
export function algorithmOfKey(key: KeyObject): AsymmetricAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  return undefined;
}

/**
 * Only the public parameters of a key, picked by name: a private JWK carries
 * `d`, `p`, `q`, `dp`, `dq`, `qi` beside them, and none of those may ever leave.
 */
function publicParameters(key: KeyObject): Pick<PublicJwk, 'kty' | 'crv' | 'x' | 'n' | 'e'> {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  const jwk: JsonWebKey = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'OKP') return { kty: 'OKP', crv: String(jwk.crv), x: String(jwk.x) };
  if (jwk.kty === 'RSA') return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) };
  throw new Error(`Unsupported key type ${String(jwk.kty)}.`);
}

/**
 * The RFC 7638 thumbprint of a public key: a stable default kid, so that two
 * replicas given the same key publish the same id without being told one.
 */
export function jwkThumbprint(key: KeyObject): string {
  const p = publicParameters(key);
  // Required members only, in lexicographic order, as the RFC prescribes.
  const canonical =
    p.kty === 'OKP'
      ? JSON.stringify({ crv: p.crv, kty: p.kty, x: p.x })
      : JSON.stringify({ e: p.e, kty: p.kty, n: p.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function publicJwkOf(key: KeyObject, kid: string, algorithm: AsymmetricAlgorithm): PublicJwk {
  return { ...publicParameters(key), kid, alg: algorithm, use: 'sig' };
}

/** Parses a PKCS8 PEM private key; the error never contains the key text. */
export function signingKeyFromPem(
  pem: string,
  algorithm: AsymmetricAlgorithm | undefined,
  kid: string | undefined,
): { key: SigningKey; algorithm: AsymmetricAlgorithm } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pemOf(pem), format: 'pem' });
  } catch {
    throw new Error('JWT_PRIVATE_KEY is not a readable PEM private key (PKCS8, unencrypted).');
  }
  const alg = algorithm ?? algorithmOfKey(privateKey);
  if (!alg) throw new Error('JWT_PRIVATE_KEY must be an Ed25519 or RSA key.');
  assertKeyFits(privateKey, alg, 'JWT_PRIVATE_KEY');
  return { key: { privateKey, kid: kid ?? jwkThumbprint(privateKey) }, algorithm: alg };
}

/** Parses a PEM public key (SPKI) published beside the signing key. */
export function publishedKeyFromPem(
  pem: string,
  algorithm: AsymmetricAlgorithm,
  kid: string | undefined,
): PublishedKey {
  let publicKey: KeyObject;
  try {
    // Given a private key by mistake, Node derives its public half: only that is kept.
    publicKey = createPublicKey({ key: pemOf(pem), format: 'pem' });
  } catch {
    throw new Error('JWT_PREVIOUS_PUBLIC_KEY is not a readable PEM public key.');
  }
  assertKeyFits(publicKey, algorithm, 'JWT_PREVIOUS_PUBLIC_KEY');
  return { publicKey, kid: kid ?? jwkThumbprint(publicKey) };
}
