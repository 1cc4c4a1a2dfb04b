import { createEnvelope, type Envelope, type EventOf, type EventPayload } from './envelope.js';
import { type IdempotentConsumer, type IdempotentConsumerOptions, idempotentConsumer } from './idempotent.js';

/**
 * A users.deleted v1 envelope: the account `userId` was erased at `at`, and every
 * token issued to it has expired by `tokensExpireBy`. The users service emits it;
 * tests of the consumers build it too.
 */
export function usersDeletedEvent(
  userId: string,
  options: { at?: Date; tokensExpireBy?: Date } = {},
): EventOf<'users.deleted', 1> {
  const at = options.at ?? new Date();
  const occurredAt = at.toISOString();
  const tokensExpireBy = (options.tokensExpireBy ?? new Date(at.getTime() + 7 * 24 * 3600_000)).toISOString();
  return createEnvelope(
    'users.deleted',
    1,
    { userId, occurredAt, tokensExpireBy },
    { producer: 'users', occurredAt },
  );
}

export interface AccountErasureOptions<Tx>
  extends Omit<IdempotentConsumerOptions<Tx>, 'subjects' | 'handler'> {
  /** Erases what the service holds for the deleted account; with a pg store, through `tx`. */
  erase(userId: string, tx: Tx, event: Envelope): Promise<void>;
}

/**
 * A service's consumer of users.deleted (one durable name per service): each
 * service erases what it owns when an account goes. `erase` must be idempotent
 * beyond the store's dedupe, for a replay under a new event id (the accounts
 * audit's repair) finds the account erased already.
 */
export function accountErasureConsumer<Tx>(options: AccountErasureOptions<Tx>): Promise<IdempotentConsumer> {
  const { erase, ...consumer } = options;
  return idempotentConsumer<Tx>({
    ...consumer,
    subjects: ['users.deleted'],
    handler: (event, tx) => erase((event.payload as EventPayload<'users.deleted', 1>).userId, tx, event),
  });
}
