import { createLogger, exitOnStartupError, runUntilSignal } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { startRouter } from './server.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('router', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const router = await startRouter(config, logger);
  if (!config.production)
    logger.info(`explore the API in Apollo Sandbox: http://${config.host}:${router.port}/`);
  runUntilSignal(router, logger);
}

main().catch(exitOnStartupError(createLogger('router')));
