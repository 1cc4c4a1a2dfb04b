import { type SubgraphTokenAuth, subgraphAuth } from '@fitness/auth';
import { connectEventBus, type EventBus, type OutboxRelay, startOutboxRelay } from '@fitness/events';
import type { Pool } from '@fitness/pg-kit';
import {
  type Logger,
  runSubgraph as runWith,
  type SubgraphDefinition,
  type SubgraphSettings,
  type SubgraphStores,
} from '@fitness/server-kit';

/** What subgraphAuth reads of a subgraph's config: the token settings, REDIS_URL. */
export type AuthSettings = Parameters<typeof subgraphAuth>[0]['config'];

/** A subgraph of this platform: server-kit's definition, on the event bus and the token auth of every service. */
export type PlatformSubgraph<
  TConfig extends SubgraphSettings & AuthSettings,
  TStores extends SubgraphStores,
  TContext extends object,
> = Omit<SubgraphDefinition<TConfig, TStores, EventBus, SubgraphTokenAuth, TContext>, 'connectBus' | 'auth'>;

/**
 * A subgraph's whole entry point: server-kit's runSubgraph with the event bus of
 * @fitness/events (NATS, the launcher's hub or in process: connectEventBus) and the
 * token auth of @fitness/auth (subgraphAuth: the verifier and the revocation feed).
 * server-kit depends on neither; they depend on it.
 */
export function runSubgraph<
  TConfig extends SubgraphSettings & AuthSettings,
  TStores extends SubgraphStores,
  TContext extends object,
>(definition: PlatformSubgraph<TConfig, TStores, TContext>): void {
  runWith({ ...definition, connectBus: connectEventBus, auth: subgraphAuth });
}

/**
 * runSubgraph's `outbox` for a service whose events wait in the `outbox` table of
 * its PostgreSQL (pg-kit's openServiceDatabase: `stores.pool`, `stores.url`).
 */
export function pgOutbox(parts: {
  stores: { pool: Pool; url: string };
  bus: EventBus;
  logger: Logger;
}): Promise<OutboxRelay> {
  const { stores, bus, logger } = parts;
  return startOutboxRelay({ pool: stores.pool, databaseUrl: stores.url, bus, logger });
}
