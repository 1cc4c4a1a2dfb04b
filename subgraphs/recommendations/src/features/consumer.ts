import {
  type DedupeSlot,
  type EventBus,
  HandlerDedupe,
  type IdempotentConsumer,
  idempotentConsumer,
} from '@fitness/events';
import type { Logger } from 'pino';
import type { FeatureStore } from './FeatureStore.js';
import { changeFromEvent } from './model.js';

/** The durable consumer's name: one per deployment, shared by every replica. */
export const FEATURES_CONSUMER = 'recommendations';

export interface FeatureConsumerOptions {
  bus: EventBus;
  store: FeatureStore;
  logger: Logger;
  /** Called after a change was applied, with its user: recomputes their advice. */
  onApplied?: (userId: string) => Promise<void>;
  /** @default 4 */
  concurrency?: number;
}

/**
 * Keeps the features and the co-occurrence model from workouts.logged and
 * workouts.deleted. Without NATS_URL or the launcher's hub the bus is this
 * process's own, which never sees workouts' events: the read model then stays
 * empty and the advice comes from the training the router sends (see the resolver).
 */
export function startFeatureConsumer(options: FeatureConsumerOptions): Promise<IdempotentConsumer> {
  const { store, logger, onApplied } = options;
  return idempotentConsumer<DedupeSlot>({
    name: FEATURES_CONSUMER,
    bus: options.bus,
    store: new HandlerDedupe(),
    subjects: ['workouts.logged', 'workouts.deleted'],
    concurrency: options.concurrency ?? 4,
    handler: async (event, slot) => {
      const change = changeFromEvent(event);
      const outcome = await store.apply(change);
      if (outcome === 'duplicate') return;
      slot.outcome = 'processed';
      // A late event of a deleted account changed nothing, and there is no advice to refresh.
      if (outcome === 'erased') return;
      // The features are already right; stale advice is recomputed on the next read
      // after its TTL, so a failed refresh must not redeliver the applied event.
      await onApplied?.(change.userId).catch((err: unknown) => {
        logger.warn({ err, eventId: event.id }, 'could not refresh recommendations after an event');
      });
    },
  });
}
