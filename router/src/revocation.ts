import {
  openRevocationList,
  type Revocation,
  type RevocationList,
  refuses,
  startRevocationFeed,
} from '@fitness/auth';
import { connectEventBus, type EventBus, type IdempotentConsumer } from '@fitness/events';
import type { Logger, StoreClientMetrics } from '@fitness/server-kit';
import type { RouterContext } from './context.js';

/** The router's side of token revocation: the list it checks tokens against, and what feeds it. */
export interface RouterRevocations {
  list: RevocationList;
  stop(): Promise<void>;
}

/**
 * The revocation list (Redis with REDIS_URL, shared with every subgraph and users,
 * which writes it at once; else in process) and, when the router hears the events
 * (NATS_URL, or the launcher's hub), its feed from users.deleted and users.signed_out.
 * Without either, the router refuses nothing itself and the subgraphs still do.
 */
export async function startRevocations(
  config: { redisUrl: string | undefined; natsUrl: string | undefined; eventHub: 'ipc' | undefined },
  logger: Logger,
  /** Where the list's Redis clients are reported (the router's /metrics). */
  metrics?: StoreClientMetrics,
): Promise<RouterRevocations> {
  const list = await openRevocationList({ redisUrl: config.redisUrl, logger, metrics });
  let bus: EventBus | undefined;
  let feed: IdempotentConsumer | undefined;
  try {
    if (config.natsUrl || config.eventHub) {
      bus = await connectEventBus({
        natsUrl: config.natsUrl,
        hub: config.eventHub,
        service: 'router',
        logger,
      });
      feed = await startRevocationFeed({ bus, revocations: list, service: 'router' });
    } else if (!config.redisUrl) {
      logger.warn(
        'REDIS_URL and NATS_URL are unset: the router learns of no token revocation (the subgraphs still refuse revoked tokens)',
      );
    }
  } catch (error) {
    await bus?.close();
    await list.close();
    throw error;
  }
  return {
    list,
    async stop() {
      await feed?.stop();
      await bus?.close();
      await list.close();
    },
  };
}

/** Whether a revocation refuses the token a graphql-ws connection signed in with. */
export function refusesConnection(auth: RouterContext, revocation: Revocation): boolean {
  return (
    auth.viewer.userId === revocation.userId &&
    auth.tokenIssuedAt !== undefined &&
    refuses(revocation, auth.tokenIssuedAt)
  );
}
