import {
  accountErasureConsumer,
  type DedupeSlot,
  type EventBus,
  HandlerDedupe,
  type IdempotentConsumer,
  PgProcessedEventStore,
} from '@fitness/events';
import type { Pool } from '@fitness/pg-kit';
import type { Logger } from 'pino';
import type { PgWorkoutsStore } from '../datasources/WorkoutsStore.js';
import type { LeaderboardStore } from '../leaderboards/LeaderboardStore.js';
import type { BoardNotices } from '../leaderboards/notices.js';

/** The durable consumer's name: one per deployment, shared by every workouts replica. */
export const WORKOUTS_ERASURE_CONSUMER = 'workouts-erasure';

export interface WorkoutsErasureOptions {
  bus: EventBus;
  pool: Pool;
  store: PgWorkoutsStore;
  boards: LeaderboardStore;
  notices: BoardNotices;
  logger: Logger;
}

/**
 * Erases what workouts holds for a deleted account, from users.deleted, in an
 * order where a failure at any step is retried and every step is idempotent:
 *
 * 1. the boards (eraseUser: every live board, and a marker so that a late event of
 *    the account changes none), then a change notice for live subscribers;
 * 2. in one transaction with the event id (processed_events): workouts, sets, their
 *    ids and outbox rows, the user marked erased so that logWorkout refuses it;
 * 3. TimescaleDB's daily totals re-materialized where they still show the account.
 *
 * A replayed event finds the id recorded and the boards and totals already clean:
 * it changes nothing. Steps 1 and 3 run again on a redelivery, which is harmless.
 */
export function startWorkoutsErasure(options: WorkoutsErasureOptions): Promise<IdempotentConsumer> {
  const { store, boards, notices, logger } = options;
  const processed = new PgProcessedEventStore(options.pool);
  return accountErasureConsumer<DedupeSlot>({
    name: WORKOUTS_ERASURE_CONSUMER,
    bus: options.bus,
    store: new HandlerDedupe(),
    erase: async (userId, slot, event) => {
      const changed = await boards.eraseUser(userId);
      if (changed.length > 0) {
        // The boards are right already; a lost notice only delays live snapshots.
        await notices.publish(changed).catch((err: unknown) => {
          logger.warn({ err, eventId: event.id }, 'could not publish leaderboard change notice');
        });
      }
      slot.outcome = await processed.processOnce(WORKOUTS_ERASURE_CONSUMER, event.id, async (client) => {
        const erased = await store.eraseUser(client, userId);
        logger.info({ userId, eventId: event.id, ...erased }, 'account erased from workouts');
      });
      await store.refreshErasedDays(userId);
    },
  });
}
