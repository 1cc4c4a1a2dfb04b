-- Account erasure (src/accounts/erasure.ts), from users.deleted.
--
-- processed_events: the idempotent consumers' record (@fitness/events
-- PgProcessedEventStore; copied from packages/events/sql/processed_events.sql), one
-- row per event a named consumer of this service has applied, inserted in the same
-- transaction as its effects.
CREATE TABLE IF NOT EXISTS processed_events (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events (processed_at);

-- Accounts erased here. Their payments stay for accounting under a pseudonym
-- (`erased:<random uuid>`, one per account, linked to nothing), their memberships are
-- canceled and pseudonymized too; only the account id is kept here, so that a
-- purchase still in flight with the account's last token is refused (beginPurchase
-- checks it under the same per-user lock). The id is the users service's opaque
-- account id, nothing personal.
CREATE TABLE IF NOT EXISTS erased_users (
  user_id text PRIMARY KEY,
  erased_at timestamptz NOT NULL DEFAULT now()
);
