import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { createWorkoutsServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('workouts', config.logLevel);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const stores = await openStores(config, logger);
  const served = await serve({
    logger,
    apollo: createWorkoutsServer(logger),
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, stores.store, logger),
    ready: stores.ready,
    host: config.host,
    port: config.port,
    closeStores: stores.close,
  });
  runUntilSignal(served, logger);
}

main().catch(exitOnStartupError(createLogger('workouts')));
