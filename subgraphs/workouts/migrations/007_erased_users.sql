-- Accounts erased after a users.deleted event (src/accounts/erasure.ts). An erased
-- user's workouts, sets, ids and outbox rows are gone; only the id is kept here, so
-- that a logWorkout still in flight with the account's last token (logWorkout takes
-- the same per-user advisory lock, shared) is refused instead of leaving a workout
-- for nobody. The id is the users service's opaque account id, nothing personal.
CREATE TABLE IF NOT EXISTS erased_users (
  user_id text PRIMARY KEY,
  erased_at timestamptz NOT NULL DEFAULT now()
);
