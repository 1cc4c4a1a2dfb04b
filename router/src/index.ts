import { createLogger, exitOnStartupError, runUntilSignal, startTracing } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { startRouter } from './server.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('router', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  // Before the router is built: its plugins and clients trace only when tracing is on.
  const tracing = await startTracing('router', config.tracing);
  const router = await startRouter(config, logger);
  if (!config.production)
    logger.info(`explore the API in Apollo Sandbox: http://${config.host}:${router.port}/`);
  runUntilSignal(
    {
      async stop() {
        await router.stop();
        await tracing?.shutdown();
      },
    },
    logger,
  );
}

main().catch(exitOnStartupError(createLogger('router')));
