import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { createRecommendationsServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('recommendations', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const stores = await openStores(config, logger);
  const served = await serve({
    logger,
    apollo: createRecommendationsServer(logger, { production: config.production }),
    routerSecret: config.routerSecret,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, stores.cache, logger),
    // Advice is computed from the request alone; the cache only saves work.
    ready: () => true,
    dependencies: { cache: stores.ready },
    host: config.host,
    port: config.port,
    closeStores: stores.close,
  });
  runUntilSignal(served, logger);
}

main().catch(exitOnStartupError(createLogger('recommendations')));
