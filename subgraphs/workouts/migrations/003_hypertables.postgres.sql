-- Plain PostgreSQL (no TimescaleDB available): workouts and workout_sets stay
-- ordinary tables; the indexes from 002 serve the same queries. Kept as a file so
-- both engines record version 003 and later versions line up.
SELECT 1;
