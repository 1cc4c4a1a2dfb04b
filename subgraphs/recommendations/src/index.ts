import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { connectEventBus } from '@fitness/events';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { Advisor } from './engine/advisor.js';
import { startFeatureConsumer } from './features/consumer.js';
import { createRecommendationsServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('recommendations', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const stores = await openStores(config, logger);
  const advisor = new Advisor({ features: stores.features, cache: stores.cache, logger });
  const bus = await connectEventBus({
    natsUrl: config.natsUrl,
    hub: config.eventHub,
    service: 'recommendations',
    logger,
  });
  if (!config.natsUrl) {
    logger.warn(
      'NATS_URL is unset: no workout events reach recommendations; advice comes from recent training',
    );
  }
  const consumer = await startFeatureConsumer({
    bus,
    store: stores.features,
    logger,
    onApplied: async (userId) => void (await advisor.refresh(userId)),
  });
  const served = await serve({
    logger,
    apollo: createRecommendationsServer(logger, { production: config.production }),
    routerSecret: config.routerSecret,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, stores.cache, logger, { advisor }),
    // Advice can always be computed from the request; the read model and cache only improve it.
    ready: () => true,
    dependencies: { cache: stores.ready, bus: async () => bus.ready() },
    host: config.host,
    port: config.port,
    async closeStores() {
      await consumer.stop();
      await bus.close();
      await stores.close();
    },
  });
  runUntilSignal(served, logger);
}

main().catch(exitOnStartupError(createLogger('recommendations')));
