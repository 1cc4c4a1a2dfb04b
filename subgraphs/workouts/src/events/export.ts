import { pathToFileURL } from 'node:url';
import type { Envelope } from '@fitness/events';
import type { Pool } from '@fitness/pg-kit';
import { createLogger, exitOnStartupError } from '@fitness/server-kit';
import { loadConfig } from '../config.js';
import type { MuscleGroup } from '../datasources/models.js';
import {
  eventSets,
  toWorkout,
  WORKOUT_COLUMNS,
  type WorkoutRow,
  workoutEvent,
} from '../datasources/WorkoutsStore.js';
import { openStores } from '../stores.js';

interface ExportRow extends WorkoutRow {
  region: string | null;
  sets: {
    exerciseId: string;
    muscleGroup: MuscleGroup;
    reps: number | null;
    weightKg: number | null;
    durationSec: number | null;
    distanceM: number | null;
  }[];
}

const QUALIFIED_COLUMNS = WORKOUT_COLUMNS.split(', ')
  .map((c) => `w.${c}`)
  .join(', ');

/**
 * Every stored workout as the workouts.logged v2 event it would emit now, oldest
 * first, `batchSize` workouts per query (keyset pagination, so memory stays flat):
 * what read models in other services rebuild from. Deleted workouts are gone and
 * emit nothing, which is what their deletions left.
 */
export async function* exportWorkoutEvents(pool: Pool, batchSize = 500): AsyncGenerator<Envelope> {
  let after: [Date, string] | null = null;
  for (;;) {
    const { rows }: { rows: ExportRow[] } = await pool.query<ExportRow>(
      `SELECT ${QUALIFIED_COLUMNS}, w.region,
              COALESCE((SELECT json_agg(json_build_object(
                          'exerciseId', s.exercise_id, 'muscleGroup', e.muscle_group, 'reps', s.reps,
                          'weightKg', s.weight_kg, 'durationSec', s.duration_sec, 'distanceM', s.distance_m)
                          ORDER BY s.position)
                          FROM workout_sets s JOIN exercises e ON e.id = s.exercise_id
                         WHERE s.workout_id = w.id AND s.started_at = w.started_at), '[]') AS sets
         FROM workouts w
        WHERE $1::timestamptz IS NULL OR (w.started_at, w.id) > ($1::timestamptz, $2::uuid)
        ORDER BY w.started_at, w.id
        LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, batchSize],
    );
    for (const r of rows) {
      const groups = new Map<string, MuscleGroup>(r.sets.map((s) => [s.exerciseId, s.muscleGroup]));
      yield workoutEvent('workouts.logged', toWorkout(r), r.region, eventSets(r.sets, groups));
    }
    if (rows.length < batchSize) return;
    const last: ExportRow = rows[rows.length - 1]!;
    after = [last.started_at, last.id];
  }
}

/**
 * `pnpm --silent --filter @fitness/workouts events:export > workouts.jsonl`: one
 * envelope per line on stdout, e.g. piped into
 * `pnpm --silent --filter @fitness/recommendations features:rebuild`.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('workouts-events-export', config.logLevel);
  const stores = await openStores(config, logger);
  let n = 0;
  try {
    for await (const event of exportWorkoutEvents(stores.pool)) {
      if (!process.stdout.write(`${JSON.stringify(event)}\n`)) {
        await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
      n++;
    }
    logger.info({ events: n }, 'workouts exported');
  } finally {
    await stores.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(exitOnStartupError(createLogger('workouts-events-export')));
}
