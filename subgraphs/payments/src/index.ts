import { subgraphAuth } from '@fitness/auth';
import { connectEventBus, startOutboxRelay } from '@fitness/events';
import { heldAccountsRoute, runSubgraph } from '@fitness/server-kit';
import { startPaymentsErasure } from './accounts/erasure.js';
import { heldUserIds } from './accounts/held.js';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { SandboxPaymentProvider } from './datasources/PaymentProvider.js';
import { startStalePurchaseSweeper } from './datasources/stalePurchases.js';
import { paymentsSubgraph } from './server.js';
import { openStores } from './stores.js';

runSubgraph({
  ...paymentsSubgraph,
  loadConfig,
  openStores,
  connectBus: connectEventBus,
  auth: subgraphAuth,
  async start({ config, logger, stores, bus }) {
    const provider = new SandboxPaymentProvider();
    logger.warn({ provider: config.provider }, 'payments use the sandbox provider: no real card is charged');
    return {
      context: (viewer) => createContext(viewer, { store: stores.store, provider, logger }),
      // For the accounts audit of users: whose data is here.
      routes: heldAccountsRoute(config.routerSecret, () => heldUserIds(stores.pool)),
      background: [
        // The outbox keeps events while the bus is away: an outage of it is a detail.
        await startOutboxRelay({ pool: stores.pool, databaseUrl: stores.url, bus, logger }),
        // Settles attempts left PENDING by users who never come back, while the provider
        // still remembers their keys (purchases settle theirs lazily too).
        startStalePurchaseSweeper({ store: stores.store, provider, logger }),
        // Deleted accounts: memberships end, payments keep their amounts without personal data.
        await startPaymentsErasure({ bus, pool: stores.pool, store: stores.store, logger }),
      ],
    };
  },
});
