import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { connectEventBus, startOutboxRelay } from '@fitness/events';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { leaderboardMetrics } from './leaderboards/metrics.js';
import { startLeaderboards } from './leaderboards/wire.js';
import { createWorkoutsServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('workouts', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const stores = await openStores(config, logger);
  const bus = await connectEventBus({
    natsUrl: config.natsUrl,
    hub: config.eventHub,
    service: 'workouts',
    logger,
  });
  const leaderboards = await startLeaderboards({
    redisUrl: config.redisUrl,
    maxUpdatesPerSecond: config.leaderboardMaxUpdatesPerSecond,
    bus,
    pool: stores.pool,
    verify,
    routerSecret: config.routerSecret,
    production: config.production,
    logger,
    context: (viewer, live) => createContext(viewer, stores.store, logger, live),
  });
  const relay = await startOutboxRelay({ pool: stores.pool, databaseUrl: stores.url, bus, logger });
  const served = await serve({
    logger,
    apollo: createWorkoutsServer(logger, { production: config.production }),
    routerSecret: config.routerSecret,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, stores.store, logger, leaderboards.live),
    // Workouts are the primary store; the boards are a read model that catches up.
    ready: stores.ready,
    dependencies: { bus: () => bus.ready(), leaderboards: () => leaderboards.ready() },
    registry: leaderboardMetrics(leaderboards.live),
    onServer: leaderboards.attach,
    host: config.host,
    port: config.port,
    // After HTTP has drained: the relay finishes (and commits) its claimed batch while
    // the bus and the pool are still open, then the bus, then the pool.
    async closeStores() {
      await relay.stop();
      await bus.close();
      await leaderboards.close();
      await stores.close();
    },
  });
  // WebSockets, the leaderboard consumer and its notices stop before HTTP drains.
  runUntilSignal({ stop: () => leaderboards.stop().then(served.stop) }, logger);
}

main().catch(exitOnStartupError(createLogger('workouts')));
