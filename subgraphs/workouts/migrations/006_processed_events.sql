-- Idempotent consumers (@fitness/events PgProcessedEventStore; copied from
-- packages/events/sql/processed_events.sql). One row per event a named consumer
-- of this service has applied, inserted in the same transaction as its effects.
CREATE TABLE IF NOT EXISTS processed_events (
  consumer text NOT NULL,
  event_id uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- For pruning rows older than any possible redelivery.
CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events (processed_at);
