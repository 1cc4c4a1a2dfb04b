import { createTokenIssuer, createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import { connectEventBus } from '@fitness/events';
import { createLogger, exitOnStartupError, runUntilSignal, serve } from '@fitness/server-kit';
import { loadConfig } from './config.js';
import { clientAddressOf, createContext } from './context.js';
import { jwksRoutes } from './jwks.js';
import { createUsersServer } from './server.js';
import { SignInThrottle } from './signInThrottle.js';
import { SignUpThrottle } from './signUpThrottle.js';
import { openRateLimiter, openStores } from './stores.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger('users', config.logLevel, config.logFormat);
  if (config.tokens.usingDevSecret) logger.warn('JWT_SECRET is unset: using the development secret');
  const verify = createTokenVerifier(config.tokens);
  const limiter = await openRateLimiter(config, logger);
  const accounts = {
    issueToken: createTokenIssuer(config.tokens),
    defaultRegion: config.defaultRegion,
    signInThrottle: new SignInThrottle(limiter, config.signInThrottle),
    signUpThrottle: new SignUpThrottle(limiter, config.signUpThrottle),
  };
  const stores = await openStores(config, logger);
  const bus = await connectEventBus({
    natsUrl: config.natsUrl,
    hub: config.eventHub,
    service: 'users',
    logger,
  });
  const outbox = stores.publishEvents(bus, logger);
  const served = await serve({
    logger,
    apollo: createUsersServer(logger, { production: config.production }),
    routerSecret: config.routerSecret,
    authenticate: (req) => viewerFromHeaders(req.headers, verify),
    context: (viewer, req) =>
      createContext(viewer, stores.store, accounts, logger, { clientAddress: clientAddressOf(req.headers) }),
    ready: () => stores.ready(),
    // signIn fails while the throttle's Redis is down (never unthrottled), but every
    // other operation works: not a reason to take the service out of a load balancer.
    dependencies: { bus: () => bus.ready(), signInThrottle: () => limiter.ping() },
    routes: jwksRoutes(config.tokens),
    host: config.host,
    port: config.port,
    // After HTTP has drained: the outbox relay finishes its round while the bus and
    // the store are still open, then the bus, then the stores.
    async closeStores() {
      await outbox.stop();
      await bus.close();
      await stores.close();
      await limiter.close();
    },
  });
  runUntilSignal(served, logger);
}

main().catch(exitOnStartupError(createLogger('users')));
