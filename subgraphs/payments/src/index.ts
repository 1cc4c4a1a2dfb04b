import { pgOutbox, runSubgraph } from '@fitness/subgraph-kit';
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
  // The outbox keeps events while the bus is away: an outage of it is a detail.
  outbox: pgOutbox,
  start({ config, logger, stores, bus }) {
    const provider = new SandboxPaymentProvider();
    logger.warn({ provider: config.provider }, 'payments use the sandbox provider: no real card is charged');
    return {
      context: (viewer) => createContext(viewer, { store: stores.store, provider, logger }),
      heldAccounts: () => heldUserIds(stores.pool),
      // Settles attempts left PENDING by users who never come back, while the provider
      // still remembers their keys (purchases settle theirs lazily too); it writes the outbox.
      afterOutbox: [() => startStalePurchaseSweeper({ store: stores.store, provider, logger })],
      // Memberships end, payments keep their amounts without personal data.
      erasure: () => startPaymentsErasure({ bus, pool: stores.pool, store: stores.store, logger }),
    };
  },
});
