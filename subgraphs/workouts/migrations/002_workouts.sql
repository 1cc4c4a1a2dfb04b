-- Workouts, their sets and the outbox. The same DDL on both engines; on TimescaleDB
-- migration 003 then turns `workouts` and `workout_sets` into hypertables.
--
-- Idempotency on the client's workout id: a TimescaleDB hypertable only accepts
-- unique indexes that include its partitioning column (started_at), so `workouts`
-- itself cannot enforce "one row per id" once it is a hypertable; a unique
-- (id, started_at) would let a retry with another startedAt slip through. The small
-- plain table `workout_ids` is therefore the registry of every id ever logged: its
-- primary key is what INSERT ... ON CONFLICT DO NOTHING races on, and it keeps the
-- owner and the content hash a retry is compared with. Rows stay after a delete
-- (deleted_at set) so a late retry of a deleted workout cannot resurrect it.
-- Both time-series tables stay hypertables, so later continuous aggregates
-- (time-bucketed stats, leaderboards) can be built on them directly.
CREATE TABLE IF NOT EXISTS workout_ids (
  id uuid PRIMARY KEY,
  user_id text NOT NULL,
  content_hash text NOT NULL,
  started_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE IF NOT EXISTS workouts (
  id uuid NOT NULL REFERENCES workout_ids (id),
  user_id text NOT NULL,
  -- Filled from the users subgraph's events by a later issue; null until then.
  region text,
  sport text NOT NULL CHECK (sport IN ('STRENGTH', 'RUN', 'RIDE', 'SWIM', 'ROW', 'WALK', 'HIIT', 'YOGA', 'OTHER')),
  title text CHECK (char_length(title) <= 100),
  started_at timestamptz NOT NULL,
  duration_sec integer NOT NULL CHECK (duration_sec BETWEEN 1 AND 86400),
  distance_m double precision CHECK (distance_m >= 0),
  calories double precision CHECK (calories >= 0),
  -- sum(reps * weight_kg) over the sets, computed on write so lists and
  -- leaderboards never re-aggregate sets.
  volume_kg double precision NOT NULL DEFAULT 0 CHECK (volume_kg >= 0),
  -- Also kept in workout_ids (where idempotency is decided); here so that a
  -- workout row alone tells which logged content it holds.
  content_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Includes the partitioning column, as TimescaleDB requires; the id alone is
  -- unique through workout_ids.
  PRIMARY KEY (id, started_at)
);

-- A user's workouts newest first: User.workouts keyset pagination and recent windows.
CREATE INDEX IF NOT EXISTS workouts_by_user_time ON workouts (user_id, started_at DESC, id DESC);

-- user_id is copied from the workout so per-user time-series queries over sets
-- (recent training, future aggregates) need no join with another hypertable.
CREATE TABLE IF NOT EXISTS workout_sets (
  workout_id uuid NOT NULL REFERENCES workout_ids (id),
  position integer NOT NULL CHECK (position >= 0),
  user_id text NOT NULL,
  exercise_id text NOT NULL REFERENCES exercises (id),
  reps integer CHECK (reps BETWEEN 0 AND 1000),
  weight_kg double precision CHECK (weight_kg BETWEEN 0 AND 1000),
  duration_sec integer CHECK (duration_sec BETWEEN 0 AND 86400),
  distance_m double precision CHECK (distance_m >= 0),
  -- The workout's started_at: the partitioning column of the hypertable.
  started_at timestamptz NOT NULL,
  PRIMARY KEY (workout_id, position, started_at)
);

CREATE INDEX IF NOT EXISTS workout_sets_by_user_time ON workout_sets (user_id, started_at DESC);

-- Events written in the same transaction as the change they describe; a relay
-- publishes unpublished rows to the bus (subject = topic) and sets published_at.
CREATE TABLE IF NOT EXISTS outbox (
  id uuid PRIMARY KEY,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
