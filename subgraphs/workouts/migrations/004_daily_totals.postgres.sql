-- Plain PostgreSQL: the same per-user daily totals as TimescaleDB's continuous
-- aggregate (004_daily_totals.timescale.sql), same name and columns, kept as a
-- table by statement-level triggers on `workouts` in the writing transaction, so
-- the totals follow logWorkout and deleteWorkout at once and the store's stats
-- query is the same SQL on both engines.
--
-- Days are UTC midnights (date_bin from a UTC origin: no session time zone
-- involved). Sums are numeric, as on TimescaleDB: adding then subtracting a
-- workout's values is exact, so deltas never drift and both engines agree.
CREATE TABLE IF NOT EXISTS user_daily_totals (
  user_id text NOT NULL,
  day timestamptz NOT NULL,
  workouts integer NOT NULL,
  duration_sec bigint NOT NULL,
  volume_kg numeric NOT NULL,
  distance_m numeric NOT NULL,
  calories numeric NOT NULL,
  PRIMARY KEY (user_id, day)
);

-- Applies the rows of one statement as one grouped delta: a multi-row insert
-- (a bulk import) costs one upsert per user and day, not one per row. Rows are
-- taken in (user_id, day) order so concurrent statements lock in the same order.
-- TG_ARGV[0] is +1 for inserted rows and -1 for deleted ones; both triggers name
-- their transition table `changed`.
LOCK TABLE workouts IN SHARE ROW EXCLUSIVE MODE;

CREATE OR REPLACE FUNCTION user_daily_totals_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  sign integer := TG_ARGV[0]::integer;
BEGIN
  INSERT INTO user_daily_totals AS t (user_id, day, workouts, duration_sec, volume_kg, distance_m, calories)
  SELECT user_id,
         date_bin(INTERVAL '1 day', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
         sign * count(*),
         sign * sum(duration_sec),
         sign * sum(volume_kg::numeric),
         sign * sum(coalesce(distance_m, 0)::numeric),
         sign * sum(coalesce(calories, 0)::numeric)
    FROM changed
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (user_id, day) DO UPDATE SET
    workouts = t.workouts + excluded.workouts,
    duration_sec = t.duration_sec + excluded.duration_sec,
    volume_kg = t.volume_kg + excluded.volume_kg,
    distance_m = t.distance_m + excluded.distance_m,
    calories = t.calories + excluded.calories;
  -- A day whose last workout went away has no row, as in the continuous aggregate.
  IF sign < 0 THEN
    DELETE FROM user_daily_totals t
     USING (SELECT DISTINCT user_id,
                   date_bin(INTERVAL '1 day', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS day
              FROM changed) c
     WHERE t.user_id = c.user_id AND t.day = c.day AND t.workouts = 0;
  END IF;
  RETURN NULL;
END;
$$;

-- Workouts are never updated in place today; should a later change update a
-- totals column, it must apply the difference here too (an UPDATE trigger with
-- OLD and NEW transition tables).
DROP TRIGGER IF EXISTS workouts_daily_totals_insert ON workouts;
CREATE TRIGGER workouts_daily_totals_insert AFTER INSERT ON workouts
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION user_daily_totals_apply('1');
DROP TRIGGER IF EXISTS workouts_daily_totals_delete ON workouts;
CREATE TRIGGER workouts_daily_totals_delete AFTER DELETE ON workouts
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION user_daily_totals_apply('-1');

-- Workouts logged before this migration are added below; writers wait until
-- this migration commits, so none is counted twice or missed.
INSERT INTO user_daily_totals (user_id, day, workouts, duration_sec, volume_kg, distance_m, calories)
SELECT user_id,
       date_bin(INTERVAL '1 day', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
       count(*),
       sum(duration_sec),
       sum(volume_kg::numeric),
       sum(coalesce(distance_m, 0)::numeric),
       sum(coalesce(calories, 0)::numeric)
  FROM workouts
 GROUP BY 1, 2
ON CONFLICT (user_id, day) DO NOTHING;
