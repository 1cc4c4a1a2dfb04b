export { type AuthEnv, authEnv, DEVELOPMENT_JWT_SECRET, tokenSettingsFrom } from './config.js';
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
  createTokenIssuer,
  createTokenVerifier,
  InvalidTokenError,
  type IssuedToken,
  type TokenSettings,
  type TokenVerifier,
  type VerifiedToken,
} from './tokens.js';
