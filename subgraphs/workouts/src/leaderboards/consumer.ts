import {
  type DedupeSlot,
  type Envelope,
  type EventBus,
  type EventPayload,
  HandlerDedupe,
  type IdempotentConsumer,
  idempotentConsumer,
  NonRetryableError,
} from '@fitness/events';
import { isRegion } from '@fitness/server-kit';
import type { Logger } from 'pino';
import type { LeaderboardStore } from './LeaderboardStore.js';
import type { WorkoutChange } from './model.js';
import type { BoardNotices } from './notices.js';

/** The durable consumer's name: one per deployment, shared by every replica (a consumer group). */
export const LEADERBOARD_CONSUMER = 'leaderboards';

type WorkoutEvent = EventPayload<'workouts.logged', 1>;

/**
 * A workouts.logged / workouts.deleted envelope as a board change. v2 adds the
 * sets beside the v1 totals the boards sum, so both versions read the same way:
 * outbox rows written before the upgrade still count.
 */
export function changeFromEvent(event: Envelope): WorkoutChange {
  const kind =
    event.type === 'workouts.logged' ? 'logged' : event.type === 'workouts.deleted' ? 'deleted' : null;
  if (!kind || (event.version !== 1 && event.version !== 2)) {
    throw new NonRetryableError(`leaderboards cannot read ${event.type} v${event.version}`);
  }
  // The bus validated the payload against its schema before handing it over; v2 is a superset of v1.
  const p = event.payload as WorkoutEvent;
  return {
    kind,
    eventId: event.id,
    workoutId: p.workoutId,
    userId: p.userId,
    region: isRegion(p.region) ? p.region : null,
    startedAt: new Date(p.startedAt),
    durationSec: p.durationSec,
    volumeKg: p.volumeKg,
    distanceM: p.distanceM,
    calories: p.calories,
  };
}

export interface LeaderboardConsumerOptions {
  bus: EventBus;
  store: LeaderboardStore;
  notices: BoardNotices;
  logger: Logger;
  /** @default 8 — applies are independent (commutative per board) */
  concurrency?: number;
}

/**
 * Keeps the boards up to date from workouts.logged (add) and workouts.deleted
 * (subtract). The bus delivers each event to ONE replica (durable consumer);
 * that replica then tells all replicas which boards changed.
 */
export function startLeaderboardConsumer(options: LeaderboardConsumerOptions): Promise<IdempotentConsumer> {
  const { store, notices, logger } = options;
  return idempotentConsumer<DedupeSlot>({
    name: LEADERBOARD_CONSUMER,
    bus: options.bus,
    store: new HandlerDedupe(),
    subjects: ['workouts.logged', 'workouts.deleted'],
    concurrency: options.concurrency ?? 8,
    // The store dedupes inside its apply (one Redis script: marker + ZINCRBYs):
    // Redis and PostgreSQL could not commit a processed-events record together.
    handler: async (event, slot) => {
      const result = await store.apply(changeFromEvent(event));
      if (result.outcome === 'duplicate') return;
      // 'erased' (a late event of a deleted account) is processed too: it changed nothing, by design.
      slot.outcome = 'processed';
      if (result.boards.length === 0) return;
      // The boards are already right; a lost notice only delays live snapshots until
      // the next change, so it must not fail (and redeliver) the applied event.
      await notices.publish(result.boards).catch((err: unknown) => {
        logger.warn({ err, eventId: event.id }, 'could not publish leaderboard change notice');
      });
    },
  });
}
