export {
  type AuthEnv,
  authEnv,
  DEVELOPMENT_JWT_SECRET,
  type TokenRole,
  tokenSettingsFrom,
} from './config.js';
export {
  ANONYMOUS,
  assertSelf,
  bearerToken,
  isSelf,
  requireUser,
  type Viewer,
  viewerFromAuthorization,
  viewerFromHeaders,
} from './context.js';
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  jwkThumbprint,
  type PublicJwk,
  type PublishedKey,
  publishedKeyFromPem,
  type SigningKey,
  signingKeyFromPem,
} from './keys.js';
export {
  type AsymmetricTokenSettings,
  createTokenIssuer,
  createTokenVerifier,
  InvalidTokenError,
  type IssuedToken,
  isAsymmetric,
  type JwksCacheOptions,
  KeySetUnavailableError,
  publicJwks,
  type SymmetricTokenSettings,
  type TokenIssuer,
  type TokenSettings,
  type TokenVerifier,
  type VerifiedToken,
} from './tokens.js';
