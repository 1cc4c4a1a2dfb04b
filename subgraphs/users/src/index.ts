import { createTokenIssuer, createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { createUsersServer } from './server.js';
import { openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('users', config.logLevel);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const accounts = { issueToken: createTokenIssuer(config.tokens), defaultRegion: config.defaultRegion };
  const stores = await openStores(config, logger);
  const served = await serve({
    logger,
    apollo: createUsersServer(logger),
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer) => createContext(viewer, stores.store, accounts, logger),
    ready: stores.ready,
    host: config.host,
    port: config.port,
    closeStores: stores.close,
  });
  runUntilSignal(served, logger);
}

main().catch(exitOnStartupError(createLogger('users')));
