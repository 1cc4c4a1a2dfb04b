import type { Server } from 'node:http';
import type { TokenVerifier, Viewer } from '@fitness/auth';
import type { EventBus, IdempotentConsumer } from '@fitness/events';
import type { Pool } from '@fitness/pg-kit';
import type { StoreClientMetrics } from '@fitness/server-kit';
import type { Logger } from 'pino';
import type { Context } from '../context.js';
import { buildWorkoutsSchema } from '../server.js';
import { startLeaderboardConsumer } from './consumer.js';
import type { LeaderboardStore } from './LeaderboardStore.js';
import { LiveBoards } from './live.js';
import type { BoardNotices } from './notices.js';
import { openLeaderboardStore } from './open.js';
import { boardsAt, markRebuiltWorkouts, rebuildBoards } from './rebuild.js';
import { type SubscriptionServer, serveSubscriptions } from './wsServer.js';

export interface LeaderboardsOptions {
  /** REDIS_URL; unset: in-process boards and notices (single-instance mode) */
  redisUrl: string | undefined;
  /** LEADERBOARD_MAX_UPDATES_PER_SECOND */
  maxUpdatesPerSecond: number;
  /** the process's one event bus (shared with the outbox relay) */
  bus: EventBus;
  /** The workouts database: in-process boards are filled from it at start. */
  pool?: Pool;
  verify: TokenVerifier;
  /** ROUTER_SUBGRAPH_SECRET, which the graphql-ws server requires of every connection. */
  routerSecret: string;
  /** NODE_ENV=production: no introspection over graphql-ws either. */
  production?: boolean;
  logger: Logger;
  /** The GraphQL context of a subscription operation, given the connection's viewer and the live boards. */
  context: (viewer: Viewer, live: LiveBoards) => Context;
  /** Redis keys and channel prefix (tests). @default '' */
  keyPrefix?: string;
  /** Where the boards' Redis clients are reported (stores `leaderboards`, `leaderboard_notices`). */
  metrics?: StoreClientMetrics;
}

export interface Leaderboards {
  /** Reads and live streams, for createContext. */
  live: LiveBoards;
  /** Serves subscriptions on the HTTP server (serve's onServer hook). */
  attach(server: Server): void;
  /** Stops the WebSocket server, then the consumer, then the notices listener. */
  stop(): Promise<void>;
  /** Closes the board store: after HTTP has drained. */
  close(): Promise<void>;
  ready(): Promise<boolean>;
  consumer: IdempotentConsumer;
  /** The boards and their change notices, for the account erasure. */
  store: LeaderboardStore;
  notices: BoardNotices;
}

/**
 * Live leaderboards for one workouts process: the board store, the consumer of
 * workout events, the change-notice listener and the graphql-ws server.
 */
export async function startLeaderboards(options: LeaderboardsOptions): Promise<Leaderboards> {
  const { logger } = options;
  const { store, notices, shared } = await openLeaderboardStore(options.redisUrl, logger, {
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  if (!shared) {
    logger.warn('REDIS_URL is unset: leaderboards live in process (single-instance mode, not shared)');
    // In-process boards start empty: fill the current ones from the table before events flow.
    if (options.pool) {
      await rebuildBoards(options.pool, store, boardsAt(new Date()));
      await markRebuiltWorkouts(options.pool, store);
    }
  }
  const live = new LiveBoards({ store, notices, logger, maxUpdatesPerSecond: options.maxUpdatesPerSecond });
  await live.start();
  const consumer = await startLeaderboardConsumer({ bus: options.bus, store, notices, logger });
  let sockets: SubscriptionServer | undefined;
  return {
    live,
    consumer,
    store,
    notices,
    attach(server) {
      sockets = serveSubscriptions({
        server,
        schema: buildWorkoutsSchema(),
        verify: options.verify,
        routerSecret: options.routerSecret,
        production: options.production ?? false,
        logger,
        context: (viewer) => options.context(viewer, live),
      });
    },
    async stop() {
      await sockets?.close();
      await live.stop();
      await consumer.stop();
      await notices.close();
    },
    close: () => store.close(),
    ready: () => store.ping(),
  };
}
