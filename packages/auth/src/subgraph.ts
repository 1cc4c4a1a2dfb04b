import type { IncomingMessage } from 'node:http';
import type { EventBus } from '@fitness/events';
import type { Logger, StoreClientMetrics } from '@fitness/server-kit';
import { type Viewer, viewerFromHeaders } from './context.js';
import { openRevocationList } from './redisRevocations.js';
import { startRevocationFeed } from './revocationFeed.js';
import type { RevocationList } from './revocations.js';
import { createTokenVerifier, type TokenSettings, type TokenVerifier } from './tokens.js';

/** A subgraph's token checking: the verifier (also for WebSocket connections) and the HTTP viewer. */
export interface SubgraphTokenAuth {
  verify: TokenVerifier;
  /** The request's viewer: anonymous without a token, UNAUTHENTICATED (401) for a bad or revoked one. */
  authenticate(req: IncomingMessage): Promise<Viewer>;
  /** What `verify` checks tokens against after their signature; users also revokes through it. */
  revocations: RevocationList;
  /** Stops the revocation feed, then closes the list. */
  stop(): Promise<void>;
}

/**
 * The auth setup of every subgraph (runSubgraph's `auth`): verifies the bearer
 * token again behind the router, with a warning when the development secret is in
 * use, and refuses revoked tokens: the revocation list (Redis with REDIS_URL, else
 * in process) is fed by `users.deleted` and `users.signed_out` through a consumer
 * of this service's own.
 */
export async function subgraphAuth(parts: {
  config: { tokens: TokenSettings & { usingDevSecret: boolean }; redisUrl?: string | undefined };
  logger: Logger;
  bus: EventBus;
  service: string;
  /** Where the revocation list's Redis clients are reported. */
  metrics?: StoreClientMetrics;
}): Promise<SubgraphTokenAuth> {
  const { tokens } = parts.config;
  if (tokens.usingDevSecret) parts.logger.warn('JWT_SECRET is unset: using the development secret');
  const revocations = await openRevocationList({
    redisUrl: parts.config.redisUrl,
    logger: parts.logger,
    metrics: parts.metrics,
  });
  const feed = await startRevocationFeed({ bus: parts.bus, revocations, service: parts.service }).catch(
    async (error: unknown) => {
      await revocations.close();
      throw error;
    },
  );
  const verify = createTokenVerifier(tokens, { revocations });
  return {
    verify,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    revocations,
    async stop() {
      await feed.stop();
      await revocations.close();
    },
  };
}
