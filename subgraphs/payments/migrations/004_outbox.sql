-- The event outbox of @fitness/events (copied from packages/events/sql/outbox.sql).
-- completePurchase writes a payments.succeeded event here in the transaction that
-- settles the payment; the OutboxRelay publishes it to the bus.
--
--   id            the event id (uuid): JetStream de-duplicates re-publishes on it,
--                 consumers dedupe on it
--   type          event type = bus subject, e.g. payments.succeeded
--   version       payload schema version
--   payload       the whole envelope as JSON (id, type, version, occurredAt, producer,
--                 trace, payload)
--   created_at    claim order; clock_timestamp() so rows of one transaction keep
--                 their insert order
--   published_at  set when the broker acknowledged the event; null = still to send
--   attempts      publishes refused because the envelope is invalid; at the relay's
--                 maxAttempts (default 3) the row is parked for an operator
--   last_error    why the last publish of this row failed
--
-- Published rows can be deleted by a periodic job once older than the broker's
-- duplicate window, e.g. DELETE FROM outbox WHERE published_at < now() - interval '1 day'.
CREATE TABLE IF NOT EXISTS outbox (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  version integer NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  published_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);

-- Only unpublished rows are ever claimed; a partial index keeps the claim cheap
-- however many published rows remain.
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (created_at, id) WHERE published_at IS NULL;
