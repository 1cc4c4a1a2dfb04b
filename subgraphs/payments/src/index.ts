import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { connectEventBus, startOutboxRelay } from '@fitness/events';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { SandboxPaymentProvider } from './datasources/PaymentProvider.js';
import { startStalePurchaseSweeper } from './datasources/stalePurchases.js';
import { createPaymentsServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('payments', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const stores = await openStores(config, logger);
  const bus = await connectEventBus({
    natsUrl: config.natsUrl,
    hub: config.eventHub,
    service: 'payments',
    logger,
  });
  const relay = await startOutboxRelay({ pool: stores.pool, databaseUrl: stores.url, bus, logger });
  const provider = new SandboxPaymentProvider();
  logger.warn({ provider: config.provider }, 'payments use the sandbox provider: no real card is charged');
  // Settles attempts left PENDING by users who never come back, while the provider
  // still remembers their keys (purchases settle theirs lazily too).
  const sweeper = startStalePurchaseSweeper({ store: stores.store, provider, logger });
  const served = await serve({
    logger,
    apollo: createPaymentsServer(logger, { production: config.production }),
    routerSecret: config.routerSecret,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, { store: stores.store, provider, logger }),
    ready: stores.ready,
    // The outbox keeps events while the bus is away: an outage of it is a detail.
    dependencies: { bus: () => bus.ready() },
    host: config.host,
    port: config.port,
    // After HTTP has drained: the relay finishes (and commits) its claimed batch while
    // the bus and the pool are still open, then the bus, then the pool.
    async closeStores() {
      await sweeper.stop();
      await relay.stop();
      await bus.close();
      await stores.close();
    },
  });
  runUntilSignal(served, logger);
}

main().catch(exitOnStartupError(createLogger('payments')));
