import { eventBusKind } from '@fitness/events';
import { runSubgraph } from '@fitness/subgraph-kit';
import { startRecommendationsErasure } from './accounts/erasure.js';
import { heldUserIds } from './accounts/held.js';
import { loadConfig } from './config.js';
import { createContext } from './context.js';
import { Advisor } from './engine/advisor.js';
import { startFeatureConsumer } from './features/consumer.js';
import { recommendationsSubgraph } from './server.js';
import { openStores } from './stores.js';

runSubgraph({
  ...recommendationsSubgraph,
  loadConfig,
  openStores,
  async start({ config, logger, stores, bus }) {
    // Under `pnpm start` without NATS the launcher's hub carries workouts' events here.
    if (eventBusKind({ natsUrl: config.natsUrl, hub: config.eventHub }) === 'in-process') {
      logger.warn(
        'NATS_URL is unset and there is no launcher event hub: no workout events reach recommendations; advice comes from recent training',
      );
    }
    const advisor = new Advisor({ features: stores.features, cache: stores.cache, logger });
    const onApplied = async (userId: string) => void (await advisor.refresh(userId));
    return {
      context: (viewer) => createContext(viewer, stores.cache, logger, { advisor }),
      // Advice can always be computed from the request; the read model and cache only improve it.
      ready: () => true,
      dependencies: { cache: stores.ready },
      heldAccounts: () => heldUserIds(stores.features, stores.cache),
      background: [await startFeatureConsumer({ bus, store: stores.features, logger, onApplied })],
      // Their features, their part of the model and their cached advice.
      erasure: () => startRecommendationsErasure({ bus, features: stores.features, cache: stores.cache }),
    };
  },
});
