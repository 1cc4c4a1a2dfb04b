-- migrate:no-transaction
-- TimescaleDB: per-user daily totals as a continuous aggregate over the workouts
-- hypertable; User.stats reads it and rolls days up to weeks and months.
--
-- Sums are taken as numeric: exact and independent of row order, so the totals
-- equal the plain-PostgreSQL rollup's (migration 004_daily_totals.postgres.sql,
-- kept by +/- deltas) to the last digit, and a delete that subtracts a value
-- leaves exactly what was there before. They are cast back to float8 on read.
--
-- materialized_only = false (real-time aggregation): rows newer than the
-- watermark (the end of the last materialized bucket) are aggregated from
-- `workouts` at query time, so a fresh workout counts at once. Changes below the
-- watermark (an offline sync of an old workout, a delete) are only recorded in
-- the invalidation log; the store refreshes the touched day right after such a
-- write (PgWorkoutsStore.refreshDays) and the refresh policy is the safety net.
--
-- The refresh, compression and retention policies are applied at start-up from
-- configuration (src/policies.ts), not here: their intervals are deployment
-- settings, and a migration cannot be changed once applied.
--
-- Built WITH NO DATA: real-time aggregation answers correctly until the first
-- refresh materializes history, and the migration stays quick on a large table.
CREATE MATERIALIZED VIEW IF NOT EXISTS user_daily_totals
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT user_id,
       time_bucket(INTERVAL '1 day', started_at) AS day,
       count(*)::integer AS workouts,
       sum(duration_sec)::bigint AS duration_sec,
       sum(volume_kg::numeric) AS volume_kg,
       sum(coalesce(distance_m, 0)::numeric) AS distance_m,
       sum(coalesce(calories, 0)::numeric) AS calories
  FROM workouts
 GROUP BY user_id, time_bucket(INTERVAL '1 day', started_at)
WITH NO DATA;

-- Raw sets are the bulk of the data (about 10 per workout) and are read per user
-- over recent windows (recent training) or per workout: segmenting by user keeps
-- one user's sets together in a compressed chunk, ordering by time matches the
-- recent-first reads. Compressed chunks still accept inserts (late syncs) and
-- deletes (deleteWorkout). The policy that compresses chunks is set at start-up.
ALTER TABLE workout_sets SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'user_id',
  timescaledb.compress_orderby = 'started_at DESC'
);
