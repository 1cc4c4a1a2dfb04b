import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { connectEventBus, startOutboxRelay } from '@fitness/events';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { startLeaderboards } from './leaderboards/wire.js';
import { createWorkoutsServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('workouts', config.logLevel);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const stores = await openStores(config, logger);
  const bus = await connectEventBus({ natsUrl: config.natsUrl, service: 'workouts', logger });
  const leaderboards = await startLeaderboards({
    redisUrl: config.redisUrl,
    maxUpdatesPerSecond: config.leaderboardMaxUpdatesPerSecond,
    bus,
    pool: stores.pool,
    verify,
    logger,
    context: (viewer, live) => createContext(viewer, stores.store, logger, live),
  });
  const relay = await startOutboxRelay({ pool: stores.pool, databaseUrl: stores.url, bus, logger });
  const served = await serve({
    logger,
    apollo: createWorkoutsServer(logger),
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, stores.store, logger, leaderboards.live),
    ready: async () => bus.ready() && (await stores.ready()) && (await leaderboards.ready()),
    onServer: leaderboards.attach,
    routes: {
      // Live subscription counts, for operators and for tests that check the router
      // really completes its upstream subscriptions.
      'GET /metrics': (_req, res) => {
        const { groups, subscribers } = leaderboards.live.stats();
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(
          [
            '# HELP workouts_leaderboard_subscriptions Active leaderboardUpdated subscriptions.',
            '# TYPE workouts_leaderboard_subscriptions gauge',
            `workouts_leaderboard_subscriptions ${subscribers}`,
            '# HELP workouts_leaderboard_live_boards Boards with subscribers.',
            '# TYPE workouts_leaderboard_live_boards gauge',
            `workouts_leaderboard_live_boards ${groups}`,
            '',
          ].join('\n'),
        );
      },
    },
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
