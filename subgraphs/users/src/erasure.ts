import {
  accountErasureConsumer,
  type EventBus,
  type IdempotentConsumer,
  MemoryProcessedEventStore,
} from '@fitness/events';
import type { UsersStore } from './datasources/UsersStore.js';

/** The durable consumer's name: one per deployment, shared by every users replica. */
export const USERS_ERASURE_CONSUMER = 'users-erasure';

/**
 * What users erases when an account goes, besides the profile deleteAccount already
 * erased: the follow edges, and each other user's count with them. deleteAccount
 * removes them at once; this consumer finishes the job when that was cut short
 * (a crash, the store down), and for users.deleted the accounts audit's repair
 * emits. removeFollows counts each edge once, so late or replayed events change nothing.
 */
export function startFollowErasure(options: {
  bus: EventBus;
  store: UsersStore;
}): Promise<IdempotentConsumer> {
  return accountErasureConsumer({
    name: USERS_ERASURE_CONSUMER,
    bus: options.bus,
    store: new MemoryProcessedEventStore(),
    erase: async (userId) => {
      await options.store.removeFollows(userId);
    },
  });
}
