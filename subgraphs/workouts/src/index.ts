import { subgraphAuth } from '@fitness/auth';
import { connectEventBus, startOutboxRelay } from '@fitness/events';
import { heldAccountsRoute, runSubgraph } from '@fitness/server-kit';
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
  connectBus: connectEventBus,
  auth: subgraphAuth,
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
    const relay = await startOutboxRelay({ pool: stores.pool, databaseUrl: stores.url, bus, logger });
    // What a deleted account had here: workouts, board entries, daily totals.
    const erasure = await startWorkoutsErasure({
      bus,
      pool: stores.pool,
      store: stores.store,
      boards: leaderboards.store,
      notices: leaderboards.notices,
      logger,
    });
    return {
      context: (viewer) => createContext(viewer, stores.store, logger, leaderboards.live),
      // Workouts are the primary store; the boards are a read model that catches up.
      dependencies: { leaderboards: () => leaderboards.ready() },
      registry: leaderboardMetrics(leaderboards.live),
      // For the accounts audit of users: whose data is here.
      routes: heldAccountsRoute(config.routerSecret, () => heldUserIds(stores.pool, leaderboards.store)),
      // Subscriptions over graphql-ws; its stop also ends the leaderboard consumer and notices.
      websocket: leaderboards,
      // After HTTP has drained: the erasure finishes its event, the relay finishes (and
      // commits) its claimed batch, then the boards close.
      background: [{ stop: () => leaderboards.close() }, relay, erasure],
    };
  },
});
