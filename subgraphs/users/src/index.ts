import { createTokenIssuer } from '@fitness/auth';
import { runSubgraph } from '@fitness/subgraph-kit';
import { loadConfig } from './config.js';
import { clientAddressOf, createContext } from './context.js';
import { startFollowErasure } from './erasure.js';
import { jwksRoutes } from './jwks.js';
import { usersSubgraph } from './server.js';
import { SignInThrottle } from './signInThrottle.js';
import { SignUpThrottle } from './signUpThrottle.js';
import { openServiceStores } from './stores.js';

runSubgraph({
  ...usersSubgraph,
  loadConfig,
  openStores: openServiceStores,
  // The relay of the users documents' events: users.registered, users.signed_out, users.deleted.
  outbox: ({ stores, bus, logger }) => stores.publishEvents(bus, logger),
  async start({ config, logger, stores, bus, auth }) {
    const accounts = {
      issueToken: createTokenIssuer(config.tokens),
      defaultRegion: config.defaultRegion,
      signInThrottle: new SignInThrottle(stores.limiter, config.signInThrottle),
      signUpThrottle: new SignUpThrottle(stores.limiter, config.signUpThrottle),
      revocation: { list: auth.revocations, tokenTtlSeconds: config.tokens.ttlSeconds },
    };
    return {
      context: (viewer, req) =>
        createContext(viewer, stores.store, accounts, logger, {
          clientAddress: clientAddressOf(req.headers),
        }),
      // signIn fails while the throttle's Redis is down (never unthrottled), but every
      // other operation works: not a reason to take the service out of a load balancer.
      dependencies: { signInThrottle: () => stores.limiter.ping() },
      routes: jwksRoutes(config.tokens),
      // The follows of deleted accounts: here, not in `erasure`, so it starts before the relay
      // (a users.deleted the relay publishes finds the consumer in place) and stops after it.
      background: [await startFollowErasure({ bus, store: stores.store })],
    };
  },
});
