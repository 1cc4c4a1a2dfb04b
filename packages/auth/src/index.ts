export {
  type AuthEnv,
  authEnv,
  checkedTokenSettings,
  DEVELOPMENT_JWT_SECRET,
  type TokenRole,
  tokenSettingsFrom,
} from './config.js';
export {
  ANONYMOUS,
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
  openRevocationList,
  RedisRevocationList,
  type RedisRevocationListOptions,
} from './redisRevocations.js';
export {
  REVOKING_EVENTS,
  type RevocationFeedOptions,
  revocationOf,
  startRevocationFeed,
} from './revocationFeed.js';
export {
  cutoffOf,
  MemoryRevocationList,
  type Revocation,
  type RevocationList,
  refuses,
} from './revocations.js';
export { type SubgraphTokenAuth, subgraphAuth } from './subgraph.js';
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
  type TokenSubject,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './tokens.js';
