import {
  type Envelope,
  type EventBus,
  type EventPayload,
  type IdempotentConsumer,
  idempotentConsumer,
  MemoryProcessedEventStore,
  NonRetryableError,
} from '@fitness/events';
import type { Revocation, RevocationList } from './revocations.js';

/** The subjects that revoke tokens. */
export const REVOKING_EVENTS = ['users.deleted', 'users.signed_out'] as const;

/** The revocation a `users.deleted` or `users.signed_out` event asks for. */
export function revocationOf(event: Envelope): Revocation {
  if (event.version !== 1) throw new NonRetryableError(`cannot read ${event.type} v${event.version}`);
  if (event.type === 'users.deleted') {
    const p = event.payload as EventPayload<'users.deleted', 1>;
    return { userId: p.userId, issuedBefore: null, until: new Date(p.tokensExpireBy) };
  }
  if (event.type === 'users.signed_out') {
    const p = event.payload as EventPayload<'users.signed_out', 1>;
    return { userId: p.userId, issuedBefore: new Date(p.issuedBefore), until: new Date(p.tokensExpireBy) };
  }
  throw new NonRetryableError(`${event.type} revokes nothing`);
}

export interface RevocationFeedOptions {
  bus: EventBus;
  revocations: RevocationList;
  /**
   * The service this process is (`router`, `workouts`, ...): each service has a
   * durable consumer of its own, so that every service hears every revocation.
   * Its replicas share it, which is enough with a shared (Redis) list; an
   * in-process list is single-instance mode anyway.
   */
  service: string;
}

/**
 * Feeds the revocation list from the events. Revoking is idempotent and only
 * widens, so a replayed or late event changes nothing; the processed-ids store
 * only counts duplicates for the metrics.
 */
export function startRevocationFeed(options: RevocationFeedOptions): Promise<IdempotentConsumer> {
  return idempotentConsumer({
    name: `revocations-${options.service}`,
    bus: options.bus,
    store: new MemoryProcessedEventStore(),
    subjects: [...REVOKING_EVENTS],
    handler: (event) => options.revocations.revoke(revocationOf(event)),
  });
}
