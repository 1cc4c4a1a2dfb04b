-- The event outbox of @fitness/events (packages/events/sql/outbox.sql), replacing
-- the table 002 created before the event backbone existed.
--
-- The old `outbox(id, topic, payload, created_at, published_at)` rows carry a
-- payload shape that no event schema describes (totals nested, no sport, no
-- region), and no relay ever published them. They cannot be turned into
-- workouts.logged / workouts.deleted v1 events faithfully: a deleted workout's
-- sport is gone with its row. So the old table is kept, renamed, as
-- `outbox_legacy` (read-only history, safe to drop once nobody wants it), and
-- nothing is replayed from it: read models are built from the workouts tables,
-- which are the source of truth, and follow the events written from here on.
-- Its index and primary key are renamed too, because the new table's have the
-- same names.
ALTER TABLE outbox RENAME TO outbox_legacy;
ALTER TABLE outbox_legacy RENAME CONSTRAINT outbox_pkey TO outbox_legacy_pkey;
ALTER INDEX outbox_unpublished RENAME TO outbox_legacy_unpublished;

-- Columns (as in the library's outbox.sql):
--   id            the event id (uuid): JetStream de-duplicates re-publishes on it,
--                 consumers dedupe on it
--   type          event type = bus subject, e.g. workouts.logged
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
