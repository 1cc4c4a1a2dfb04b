import { pgOutbox, runSubgraph } from '@fitness/subgraph-kit';
import { startWorkoutsErasure } from './accounts/erasure.js';
import { heldUserIds } from './accounts/held.js';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { leaderboardMetrics } from './leaderboards/metrics.js';
import { startLeaderboards } from './leaderboards/wire.js';
import { workoutsSubgraph } from './server.js';
import { openStores } from './stores.js';

runSubgraph({
  ...workoutsSubgraph,
  loadConfig,
  openStores,
  outbox: pgOutbox,
  async start({ config, logger, stores, bus, auth, metrics }) {
    const leaderboards = await startLeaderboards({
      metrics,
      redisUrl: config.redisUrl,
      maxUpdatesPerSecond: config.leaderboardMaxUpdatesPerSecond,
      bus,
      pool: stores.pool,
      verify: auth.verify,
      routerSecret: config.routerSecret,
      production: config.production,
      logger,
      context: (viewer, live) => createContext(viewer, stores.store, logger, live),
    });
    const { live, store: boards, notices } = leaderboards;
    return {
      context: (viewer) => createContext(viewer, stores.store, logger, live),
      // Workouts are the primary store; the boards are a read model that catches up.
      dependencies: { leaderboards: () => leaderboards.ready() },
      registry: leaderboardMetrics(live),
      heldAccounts: () => heldUserIds(stores.pool, boards),
      // Subscriptions over graphql-ws; its stop also ends the leaderboard consumer and notices.
      websocket: leaderboards,
      // After HTTP has drained: the erasure finishes its event, the relay finishes (and
      // commits) its claimed batch, then the boards close.
      background: [{ stop: () => leaderboards.close() }],
      // What a deleted account had here: workouts, board entries, daily totals.
      erasure: () =>
        startWorkoutsErasure({ bus, pool: stores.pool, store: stores.store, boards, notices, logger }),
    };
  },
});
