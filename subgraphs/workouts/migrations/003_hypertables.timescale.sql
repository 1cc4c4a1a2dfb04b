-- TimescaleDB: partition the time-series tables by started_at. Both tables are
-- empty here (created by 002), so no data migration is needed. Seven-day chunks
-- keep a month of one region's sets in a handful of chunks.
CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('workouts', by_range('started_at', INTERVAL '7 days'), if_not_exists => true);
SELECT create_hypertable('workout_sets', by_range('started_at', INTERVAL '7 days'), if_not_exists => true);
