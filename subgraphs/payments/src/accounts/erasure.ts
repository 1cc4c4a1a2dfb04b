import {
  accountErasureConsumer,
  type EventBus,
  type IdempotentConsumer,
  PgProcessedEventStore,
} from '@fitness/events';
import type { Pool, PoolClient } from '@fitness/pg-kit';
import type { Logger } from 'pino';
import type { PaymentsStore } from '../datasources/PaymentsStore.js';

/** The durable consumer's name: one per deployment, shared by every payments replica. */
export const PAYMENTS_ERASURE_CONSUMER = 'payments-erasure';

/**
 * Erases a deleted account from payments, from users.deleted: open memberships end
 * at once, payment records keep their amounts under a pseudonym (PaymentsStore
 * eraseUser), in the transaction that records the event id, so a late or replayed
 * event changes nothing.
 */
export function startPaymentsErasure(options: {
  bus: EventBus;
  pool: Pool;
  store: PaymentsStore;
  logger: Logger;
}): Promise<IdempotentConsumer> {
  const { store, logger } = options;
  return accountErasureConsumer<PoolClient>({
    name: PAYMENTS_ERASURE_CONSUMER,
    bus: options.bus,
    store: new PgProcessedEventStore(options.pool),
    erase: async (userId, client, event) => {
      const erased = await store.eraseUser(client, userId);
      logger.info({ userId, eventId: event.id, ...erased }, 'account erased from payments');
    },
  });
}
