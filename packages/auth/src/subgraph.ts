import type { IncomingMessage } from 'node:http';
import type { Logger } from '@fitness/server-kit';
import { type Viewer, viewerFromHeaders } from './context.js';
import { createTokenVerifier, type TokenSettings, type TokenVerifier } from './tokens.js';

/** A subgraph's token checking: the verifier (also for WebSocket connections) and the HTTP viewer. */
export interface SubgraphTokenAuth {
  verify: TokenVerifier;
  /** The request's viewer: anonymous without a token, UNAUTHENTICATED (401) for a bad one. */
  authenticate(req: IncomingMessage): Promise<Viewer>;
}

/**
 * The auth setup of every subgraph (runSubgraph's `auth`): verifies the bearer
 * token again behind the router, with a warning when the development secret is in use.
 */
export function subgraphAuth(parts: {
  config: { tokens: TokenSettings & { usingDevSecret: boolean } };
  logger: Logger;
}): SubgraphTokenAuth {
  const { tokens } = parts.config;
  if (tokens.usingDevSecret) parts.logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(tokens);
  return { verify, authenticate: (req) => viewerFromHeaders(req.headers, verify) };
}
