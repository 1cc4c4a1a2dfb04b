import { publicJwks, type TokenSettings } from '@fitness/auth';
import { type RouteHandler, sendJson } from '@fitness/server-kit';

/** GET /.well-known/jwks.json when asymmetric keys are configured; nothing with HS256. */
export function jwksRoutes(tokens: TokenSettings): Record<string, RouteHandler> {
  const jwks = publicJwks(tokens);
  if (!jwks) return {};
  return {
    // Verifiers cache it themselves and refetch on an unknown kid; a short max-age keeps rotations quick.
    'GET /.well-known/jwks.json': (_req, res) =>
      sendJson(res, 200, jwks, { 'cache-control': 'public, max-age=300' }),
  };
}
