import {
  createEnvelope,
  type Envelope,
  type EventBus,
  type EventOf,
  usersDeletedEvent,
} from '@fitness/events';
import type { Logger, ServiceMetrics } from '@fitness/server-kit';
import type { UserRecord } from './datasources/models.js';

/** The event of a new account; `occurredAt` is the account's creation time. */
export function userRegistered(user: UserRecord): EventOf<'users.registered', 1> {
  const occurredAt = user.createdAt.toISOString();
  return createEnvelope(
    'users.registered',
    1,
    { userId: user.id, handle: user.handle, region: user.region, occurredAt },
    { producer: 'users', occurredAt },
  );
}

/**
 * Tokens issued before `at` have all expired one token lifetime later: how long
 * the revocation an event asks for must be remembered.
 */
const tokensExpireBy = (at: Date, tokenTtlSeconds: number) =>
  new Date(at.getTime() + tokenTtlSeconds * 1000).toISOString();

/** The event of an erased account: every service erases what it holds and refuses its tokens. */
export const userDeleted = (userId: string, at: Date, tokenTtlSeconds: number): EventOf<'users.deleted', 1> =>
  usersDeletedEvent(userId, { at, tokensExpireBy: new Date(tokensExpireBy(at, tokenTtlSeconds)) });

/** The event of a signOutEverywhere: tokens issued up to `at` are refused. */
export function userSignedOut(
  userId: string,
  at: Date,
  tokenTtlSeconds: number,
): EventOf<'users.signed_out', 1> {
  const issuedBefore = at.toISOString();
  return createEnvelope(
    'users.signed_out',
    1,
    { userId, issuedBefore, tokensExpireBy: tokensExpireBy(at, tokenTtlSeconds) },
    { producer: 'users', occurredAt: at },
  );
}

/** Publishes a store's outbox until stopped; what index.ts stops on SIGTERM. */
export interface OutboxPublisher {
  stop(): Promise<void>;
  /** Reports the outbox's backlog in the service's metrics (outbox `users`). */
  observe(metrics: ServiceMetrics): void;
}

/**
 * The outbox of the in-process users store: events appended in the same
 * synchronous step as the user they describe (so both exist together, as in a
 * transaction), published in order by {@link MemoryOutbox.start}. Like the store,
 * it lives and dies with the process.
 */
export class MemoryOutbox {
  private readonly pending: Envelope[] = [];
  private wake: (() => void) | null = null;

  /** Synchronous on purpose: MemoryUsersStore calls it before its first await. */
  append(event: Envelope): void {
    this.pending.push(event);
    this.wake?.();
  }

  /** Events not yet accepted by the bus. */
  get backlog(): number {
    return this.pending.length;
  }

  /**
   * Drains to the bus, oldest first. A failed publish keeps the event at the head
   * and is retried after a back-off, so order and content survive a bus outage.
   */
  start(bus: EventBus, logger: Logger, options: { retryDelayMs?: number } = {}): OutboxPublisher {
    const retryDelayMs = options.retryDelayMs ?? 1_000;
    let stopping = false;
    const sleep = (ms: number | null) =>
      new Promise<void>((resolve) => {
        const timer = ms === null ? undefined : setTimeout(done, ms);
        const self = this;
        function done() {
          clearTimeout(timer);
          self.wake = null;
          resolve();
        }
        this.wake = done;
      });
    const loop = (async () => {
      while (!stopping) {
        const event = this.pending[0];
        if (!event) {
          await sleep(null);
          continue;
        }
        try {
          await bus.publish(event);
          this.pending.shift();
        } catch (err) {
          logger.warn({ err, eventId: event.id }, 'in-process outbox publish failed; retrying');
          if (!stopping) await sleep(retryDelayMs);
        }
      }
    })();
    return {
      stop: async () => {
        stopping = true;
        this.wake?.();
        await loop;
      },
      observe: (metrics) =>
        metrics.outbox('users', async () => {
          const oldest = this.pending[0];
          return {
            events: this.pending.length,
            oldestAgeSeconds: oldest ? Math.max(0, (Date.now() - Date.parse(oldest.occurredAt)) / 1000) : 0,
          };
        }),
    };
  }
}
