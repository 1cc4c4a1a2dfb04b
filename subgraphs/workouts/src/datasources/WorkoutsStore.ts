import { createHash } from 'node:crypto';
import { createEnvelope, type EventPayload, writeOutbox } from '@fitness/events';
import {
  type Engine,
  PgErrorCode,
  type Pool,
  type PoolClient,
  pgErrorCode,
  withTransaction,
} from '@fitness/pg-kit';
import {
  badUserInput,
  conflict,
  forbidden,
  type Logger,
  notFound,
  unauthenticated,
} from '@fitness/server-kit';
import { isUuid, volumeOf } from '../validation.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  type ExerciseRecord,
  MUSCLE_GROUPS,
  type MuscleGroup,
  type NewWorkout,
  type RecentTrainingRecord,
  type StatsBucketRecord,
  type StatsBucketSize,
  type StatsKey,
  type WorkoutPage,
  type WorkoutRecord,
  type WorkoutSetRecord,
} from './models.js';

/**
 * The workouts store port. One adapter, on `pg`: TimescaleDB, plain PostgreSQL or
 * the embedded PGlite. Store failures leave it as contract errors (NOT_FOUND,
 * CONFLICT, FORBIDDEN, BAD_USER_INPUT); anything else is unexpected and masked.
 */
export interface WorkoutsStore {
  /**
   * Stores a workout, its sets and a `workouts.logged` outbox row in one
   * transaction. Idempotent on `workout.id`: the same owner sending the same
   * content gets the stored workout back (`created: false`) and nothing is written;
   * other content or another owner is CONFLICT.
   */
  logWorkout(workout: NewWorkout): Promise<{ workout: WorkoutRecord; created: boolean }>;
  /**
   * Deletes the owner's workout and writes a `workouts.deleted` outbox row. False
   * when there is no such workout; FORBIDDEN when it belongs to someone else.
   */
  deleteWorkout(id: string, userId: string): Promise<boolean>;
  /** Workouts by id, in key order; null where there is none. */
  workoutsByIds(ids: readonly string[]): Promise<(WorkoutRecord | null)[]>;
  /** A user's workouts newest first, `first` of them after the cursor `after`. */
  listWorkouts(userId: string, first: number, after: string | null): Promise<WorkoutPage>;
  /** The sets of each workout, in key order, each list by position. */
  setsByWorkoutIds(workoutIds: readonly string[]): Promise<WorkoutSetRecord[][]>;
  exercisesByIds(ids: readonly string[]): Promise<(ExerciseRecord | null)[]>;
  /** The catalogue (of one muscle group when given), by name. */
  listExercises(muscleGroup?: MuscleGroup | null): Promise<ExerciseRecord[]>;
  /** Per user (in key order): workouts and per-muscle-group training since `since`. */
  recentTraining(userIds: readonly string[], since: Date): Promise<RecentTrainingRecord[]>;
  /**
   * Per key (in key order): the user's totals per bucket in [start, end), oldest
   * first, only buckets that have workouts. Read from the daily rollup, so they
   * follow every logWorkout and deleteWorkout that has returned.
   */
  stats(keys: readonly StatsKey[]): Promise<StatsBucketRecord[][]>;
}

/**
 * The per-user lock of logWorkout (shared: a user's workouts never wait for each
 * other) and of an erasure (exclusive): a workout either commits before the erasure,
 * which then deletes it, or sees the erased user and is refused.
 */
const USER_LOCK = `hashtext('workouts:user:' || $1)`;

/** What erasing one user removed. */
export interface ErasedWorkouts {
  workouts: number;
  sets: number;
  outboxRows: number;
}

/**
 * What a retry is compared with: every field the client sent except the id. Dates
 * are hashed as instants, so "+02:00" and "Z" spellings of one time are equal.
 */
export function contentHash(w: NewWorkout): string {
  const canonical = JSON.stringify([
    w.sport,
    w.title,
    w.startedAt.toISOString(),
    w.durationSec,
    w.distanceM,
    w.calories,
    w.sets.map((s) => [s.exerciseId, s.reps, s.weightKg, s.durationSec, s.distanceM]),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export interface WorkoutRow {
  id: string;
  user_id: string;
  sport: WorkoutRecord['sport'];
  title: string | null;
  started_at: Date;
  duration_sec: number;
  distance_m: number | null;
  calories: number | null;
  volume_kg: number;
  created_at: Date;
}

export const WORKOUT_COLUMNS =
  'id, user_id, sport, title, started_at, duration_sec, distance_m, calories, volume_kg, created_at';

export const toWorkout = (r: WorkoutRow): WorkoutRecord => ({
  id: r.id,
  userId: r.user_id,
  sport: r.sport,
  title: r.title,
  startedAt: r.started_at,
  durationSec: r.duration_sec,
  distanceM: r.distance_m,
  calories: r.calories,
  volumeKg: r.volume_kg,
  createdAt: r.created_at,
});

interface SetRow {
  workout_id: string;
  position: number;
  exercise_id: string;
  reps: number | null;
  weight_kg: number | null;
  duration_sec: number | null;
  distance_m: number | null;
}

const toSet = (r: SetRow): WorkoutSetRecord => ({
  workoutId: r.workout_id,
  position: r.position,
  exerciseId: r.exercise_id,
  reps: r.reps,
  weightKg: r.weight_kg,
  durationSec: r.duration_sec,
  distanceM: r.distance_m,
});

interface ExerciseRow {
  id: string;
  name: string;
  muscle_group: MuscleGroup;
}

const toExercise = (r: ExerciseRow): ExerciseRecord => ({
  id: r.id,
  name: r.name,
  muscleGroup: r.muscle_group,
});

/** Maps driver errors that carry meaning for a client; everything else passes through. */
function translate(error: unknown): unknown {
  switch (pgErrorCode(error)) {
    // Only exercise ids are client-chosen foreign keys (the exercise check before the
    // insert names the id; this covers an exercise removed meanwhile).
    case PgErrorCode.FOREIGN_KEY_VIOLATION:
      return notFound('Unknown exercise.');
    case PgErrorCode.CHECK_VIOLATION:
      return badUserInput('The workout has a value out of range.');
    case PgErrorCode.INVALID_TEXT_REPRESENTATION:
      return badUserInput('The workout has a malformed value.');
    default:
      return error;
  }
}

/** A set as workouts.logged / workouts.deleted v2 carry it. */
type EventSet = EventPayload<'workouts.logged', 2>['sets'][number];

/**
 * The v2 event of a logged or deleted workout: the v1 totals, which v1 readers
 * such as the leaderboards use unchanged, plus the sets with their exercises'
 * muscle groups, which the recommendations read model learns from. Both kinds
 * carry the same content, so a read model subtracts exactly what it added;
 * absent distance and calories count as 0.
 */
export const workoutEvent = (
  type: 'workouts.logged' | 'workouts.deleted',
  w: WorkoutRecord,
  region: string | null,
  sets: EventSet[],
) =>
  createEnvelope(
    type,
    2,
    {
      workoutId: w.id,
      userId: w.userId,
      region,
      startedAt: w.startedAt.toISOString(),
      sport: w.sport,
      durationSec: w.durationSec,
      volumeKg: w.volumeKg,
      distanceM: w.distanceM ?? 0,
      calories: w.calories ?? 0,
      sets,
    },
    { producer: 'workouts' },
  );

/** The sets of a workout with each exercise's muscle group, for its event. */
export function eventSets(
  sets: readonly Omit<WorkoutSetRecord, 'workoutId' | 'position'>[],
  groups: ReadonlyMap<string, MuscleGroup>,
): EventSet[] {
  return sets.map((s) => {
    const muscleGroup = groups.get(s.exerciseId);
    if (!muscleGroup) throw new Error(`Exercise ${s.exerciseId} has no muscle group.`);
    return {
      exerciseId: s.exerciseId,
      muscleGroup,
      reps: s.reps,
      weightKg: s.weightKg,
      durationSec: s.durationSec,
      distanceM: s.distanceM,
    };
  });
}

/** SQL `date_trunc` units of the bucket sizes; weeks are ISO weeks (from Monday). */
const TRUNC_UNIT: Record<StatsBucketSize, string> = { DAY: 'day', WEEK: 'week', MONTH: 'month' };

interface StatsRow {
  user_id: string;
  start: Date;
  workouts: number;
  duration_sec: number;
  volume_kg: number;
  distance_m: number;
  calories: number;
}

export class PgWorkoutsStore implements WorkoutsStore {
  /**
   * @param engine what the migrations built: on 'timescale' the daily totals are a
   * continuous aggregate that writes below its watermark must refresh.
   */
  constructor(
    private readonly pool: Pool,
    private readonly engine: Engine,
    private readonly logger?: Logger,
  ) {}

  async logWorkout(workout: NewWorkout): Promise<{ workout: WorkoutRecord; created: boolean }> {
    const hash = contentHash(workout);
    let result: { workout: WorkoutRecord; created: boolean };
    try {
      result = await withTransaction(this.pool, async (client) => {
        // Two statements: the check must read after the lock is held, and a statement
        // reads what was committed when it began.
        await client.query(`SELECT pg_advisory_xact_lock_shared(${USER_LOCK})`, [workout.userId]);
        const erased = await client.query('SELECT 1 FROM erased_users WHERE user_id = $1', [workout.userId]);
        if (erased.rowCount) throw unauthenticated('This account has been deleted.');
        const groups = await this.muscleGroupsOf(client, workout);
        // The registry's primary key decides who logged this id first. Concurrent
        // retries block here until the first transaction ends, then see its row;
        // never check-then-insert, which two retries would both pass.
        const inserted = await client.query(
          `INSERT INTO workout_ids (id, user_id, content_hash, started_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO NOTHING`,
          [workout.id, workout.userId, hash, workout.startedAt],
        );
        if (inserted.rowCount === 0)
          return { workout: await this.existing(client, workout, hash), created: false };
        const stored = await this.insertWorkout(client, workout, hash);
        // Only the transaction that registered the id gets here, so a retry (even a
        // concurrent one) never writes a second event.
        await writeOutbox(
          client,
          workoutEvent('workouts.logged', stored, workout.region ?? null, eventSets(workout.sets, groups)),
        );
        return { workout: stored, created: true };
      });
    } catch (error) {
      throw translate(error);
    }
    if (result.created) await this.refreshDailyTotals(workout.startedAt);
    return result;
  }

  /**
   * Makes the continuous aggregate follow a committed write at `startedAt`. Days
   * newer than the watermark are aggregated at query time and need nothing; an
   * older day (an offline sync, a delete) was materialized before and is stale
   * until refreshed, so that one day is refreshed now. Never refresh a day above
   * the watermark: a refresh moves the watermark to the window's end, and the
   * days between the old watermark and the window would then read as empty until
   * the policy materializes them (seen on TimescaleDB 2.23).
   * refresh_continuous_aggregate cannot run in a transaction, hence after commit.
   * A failure leaves the write in place (it is committed and logged in the
   * invalidation log); the refresh policy corrects the totals on its next run.
   */
  private async refreshDailyTotals(startedAt: Date): Promise<void> {
    if (this.engine !== 'timescale') return;
    try {
      const { rows } = await this.pool.query<{ day: Date; materialized: boolean }>(
        `SELECT time_bucket(INTERVAL '1 day', $1::timestamptz) AS day,
                time_bucket(INTERVAL '1 day', $1::timestamptz) <
                  _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(c.mat_hypertable_id))
                  AS materialized
           FROM _timescaledb_catalog.continuous_agg c
          WHERE c.user_view_schema = current_schema() AND c.user_view_name = 'user_daily_totals'`,
        [startedAt],
      );
      const day = rows[0];
      if (!day?.materialized) return;
      await this.pool.query(
        `CALL refresh_continuous_aggregate('user_daily_totals', $1::timestamptz, $1::timestamptz + INTERVAL '1 day')`,
        [day.day],
      );
    } catch (err) {
      this.logger?.warn({ err, startedAt }, 'daily totals refresh failed; the refresh policy will catch up');
    }
  }

  /** The muscle group of each exercise the workout names; NOT_FOUND for an unknown one. */
  private async muscleGroupsOf(client: PoolClient, workout: NewWorkout): Promise<Map<string, MuscleGroup>> {
    const groups = await this.groupsByExercise(client, workout.sets);
    const unknown = workout.sets.find((s) => !groups.has(s.exerciseId))?.exerciseId;
    if (unknown !== undefined) throw notFound(`Unknown exercise: ${unknown}`, { exerciseId: unknown });
    return groups;
  }

  private async groupsByExercise(
    client: PoolClient,
    sets: readonly { exerciseId: string }[],
  ): Promise<Map<string, MuscleGroup>> {
    const ids = [...new Set(sets.map((s) => s.exerciseId))];
    if (ids.length === 0) return new Map();
    const { rows } = await client.query<{ id: string; muscle_group: MuscleGroup }>(
      'SELECT id, muscle_group FROM exercises WHERE id = ANY($1::text[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.muscle_group]));
  }

  /** The stored workout for a retry of an id that is already registered. */
  private async existing(client: PoolClient, workout: NewWorkout, hash: string): Promise<WorkoutRecord> {
    const { rows } = await client.query<{ user_id: string; content_hash: string; deleted: boolean }>(
      'SELECT user_id, content_hash, deleted_at IS NOT NULL AS deleted FROM workout_ids WHERE id = $1',
      [workout.id],
    );
    const registered = rows[0];
    // Same message for "another owner" and "other content": an id must not tell
    // one user whether another user's workout exists.
    const taken = () => conflict(`Workout id ${workout.id} was already used for another workout.`);
    if (!registered || registered.user_id !== workout.userId) throw taken();
    if (registered.deleted) throw conflict(`Workout ${workout.id} was deleted; log it with a new id.`);
    if (registered.content_hash !== hash) throw taken();
    const stored = await client.query<WorkoutRow>(`SELECT ${WORKOUT_COLUMNS} FROM workouts WHERE id = $1`, [
      workout.id,
    ]);
    if (!stored.rows[0]) throw new Error(`Workout ${workout.id} is registered but has no row.`);
    return toWorkout(stored.rows[0]);
  }

  private async insertWorkout(client: PoolClient, w: NewWorkout, hash: string): Promise<WorkoutRecord> {
    const { rows } = await client.query<WorkoutRow>(
      `INSERT INTO workouts
         (id, user_id, sport, title, started_at, duration_sec, distance_m, calories, volume_kg, content_hash, region)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       RETURNING ${WORKOUT_COLUMNS}`,
      [
        w.id,
        w.userId,
        w.sport,
        w.title,
        w.startedAt,
        w.durationSec,
        w.distanceM,
        w.calories,
        volumeOf(w.sets),
        hash,
        w.region ?? null,
      ],
    );
    if (w.sets.length > 0) {
      // One statement for all sets (up to 200): arrays unnested server-side keep
      // the SQL parameterized and the round trips constant.
      await client.query(
        `INSERT INTO workout_sets
           (workout_id, position, user_id, started_at, exercise_id, reps, weight_kg, duration_sec, distance_m)
         SELECT $1, s.position - 1, $2, $3, s.exercise_id, s.reps, s.weight_kg, s.duration_sec, s.distance_m
           FROM unnest($4::text[], $5::int[], $6::float8[], $7::int[], $8::float8[])
                WITH ORDINALITY AS s (exercise_id, reps, weight_kg, duration_sec, distance_m, position)`,
        [
          w.id,
          w.userId,
          w.startedAt,
          w.sets.map((s) => s.exerciseId),
          w.sets.map((s) => s.reps),
          w.sets.map((s) => s.weightKg),
          w.sets.map((s) => s.durationSec),
          w.sets.map((s) => s.distanceM),
        ],
      );
    }
    return toWorkout(rows[0]!);
  }

  async deleteWorkout(id: string, userId: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    let deletedAt: Date | null;
    try {
      deletedAt = await withTransaction(this.pool, async (client) => {
        // FOR UPDATE: a concurrent delete of the same id waits and then sees the tombstone.
        const { rows } = await client.query<{ user_id: string; started_at: Date }>(
          'SELECT user_id, started_at FROM workout_ids WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
          [id],
        );
        const registered = rows[0];
        if (!registered) return null;
        if (registered.user_id !== userId) throw forbidden();
        // started_at lets TimescaleDB touch only the chunk that holds the workout.
        const deleted = await client.query<WorkoutRow & { region: string | null }>(
          `DELETE FROM workouts WHERE id = $1 AND started_at = $2 RETURNING ${WORKOUT_COLUMNS}, region`,
          [id, registered.started_at],
        );
        const sets = await client.query<SetRow>(
          `DELETE FROM workout_sets WHERE workout_id = $1 AND started_at = $2
           RETURNING workout_id, position, exercise_id, reps, weight_kg, duration_sec, distance_m`,
          [id, registered.started_at],
        );
        // The registry row stays as a tombstone so a late logWorkout retry cannot bring it back.
        await client.query('UPDATE workout_ids SET deleted_at = now() WHERE id = $1', [id]);
        const workout = deleted.rows[0];
        // The region the workout was logged with, so read models subtract it where they added it.
        if (workout) {
          // The sets the logged event carried (fewer if a retention policy dropped old ones).
          const removed = sets.rows.sort((a, b) => a.position - b.position).map(toSet);
          const groups = await this.groupsByExercise(client, removed);
          await writeOutbox(
            client,
            workoutEvent('workouts.deleted', toWorkout(workout), workout.region, eventSets(removed, groups)),
          );
        }
        return registered.started_at;
      });
    } catch (error) {
      throw translate(error);
    }
    if (deletedAt === null) return false;
    await this.refreshDailyTotals(deletedAt);
    return true;
  }

  /**
   * Erases everything workouts holds for a user, inside the caller's transaction
   * (the erasure consumer's, which records the event id with it): the workouts and
   * their sets (so the daily totals lose them: at once on plain PostgreSQL, after
   * refreshErasedDays on TimescaleDB), the registry of their ids, and every outbox
   * row about them, published or not (no event of the account goes out after its
   * erasure). Marks the user erased for logWorkout. Idempotent.
   */
  async eraseUser(client: PoolClient, userId: string): Promise<ErasedWorkouts> {
    await client.query(`SELECT pg_advisory_xact_lock(${USER_LOCK})`, [userId]);
    await client.query('INSERT INTO erased_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING', [userId]);
    const sets = await client.query('DELETE FROM workout_sets WHERE user_id = $1', [userId]);
    const workouts = await client.query('DELETE FROM workouts WHERE user_id = $1', [userId]);
    await client.query('DELETE FROM workout_ids WHERE user_id = $1', [userId]);
    const outbox = await client.query(`DELETE FROM outbox WHERE payload->'payload'->>'userId' = $1`, [
      userId,
    ]);
    return { workouts: workouts.rowCount ?? 0, sets: sets.rowCount ?? 0, outboxRows: outbox.rowCount ?? 0 };
  }

  /**
   * TimescaleDB: re-materializes the days of the continuous aggregate that still
   * show an erased user's totals (days below the watermark keep what they had until
   * refreshed; newer ones are aggregated at query time and are empty already).
   * Nothing to do when none is left, so it is safe to repeat. Throws on failure,
   * so that the erasure is retried.
   */
  async refreshErasedDays(userId: string): Promise<void> {
    if (this.engine !== 'timescale') return;
    const { rows } = await this.pool.query<{ day: Date }>(
      'SELECT day FROM user_daily_totals WHERE user_id = $1 ORDER BY day',
      [userId],
    );
    // Runs of consecutive days, one refresh each: only the days the user had, not
    // everyone's history in between.
    const DAY_MS = 24 * 3600_000;
    const runs: { start: Date; end: Date }[] = [];
    for (const { day } of rows) {
      const last = runs.at(-1);
      if (last && last.end.getTime() === day.getTime()) last.end = new Date(day.getTime() + DAY_MS);
      else runs.push({ start: day, end: new Date(day.getTime() + DAY_MS) });
    }
    for (const run of runs) {
      await this.pool.query(
        `CALL refresh_continuous_aggregate('user_daily_totals', $1::timestamptz, $2::timestamptz)`,
        [run.start, run.end],
      );
    }
  }

  async workoutsByIds(ids: readonly string[]): Promise<(WorkoutRecord | null)[]> {
    // A non-UUID can name no workout; filtering keeps the uuid[] cast from failing.
    const keys = ids.filter(isUuid).map((id) => id.toLowerCase());
    const { rows } = keys.length
      ? await this.pool.query<WorkoutRow>(
          `SELECT ${WORKOUT_COLUMNS} FROM workouts WHERE id = ANY($1::uuid[])`,
          [keys],
        )
      : { rows: [] };
    const byId = new Map(rows.map((r) => [r.id, toWorkout(r)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }

  async listWorkouts(userId: string, first: number, after: string | null): Promise<WorkoutPage> {
    const key = after === null ? null : decodeCursor(after);
    // One row more than asked tells whether there is a next page.
    const { rows } = key
      ? await this.pool.query<WorkoutRow>(
          `SELECT ${WORKOUT_COLUMNS} FROM workouts
            WHERE user_id = $1 AND (started_at, id) < ($2::timestamptz, $3::uuid)
            ORDER BY started_at DESC, id DESC LIMIT $4`,
          [userId, key.startedAt, key.id, first + 1],
        )
      : await this.pool.query<WorkoutRow>(
          `SELECT ${WORKOUT_COLUMNS} FROM workouts WHERE user_id = $1
            ORDER BY started_at DESC, id DESC LIMIT $2`,
          [userId, first + 1],
        );
    const edges = rows.slice(0, first).map((r) => {
      const node = toWorkout(r);
      return { cursor: encodeCursor(node), node };
    });
    return {
      edges,
      pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  async setsByWorkoutIds(workoutIds: readonly string[]): Promise<WorkoutSetRecord[][]> {
    const keys = workoutIds.filter(isUuid).map((id) => id.toLowerCase());
    const { rows } = keys.length
      ? await this.pool.query<SetRow>(
          `SELECT workout_id, position, exercise_id, reps, weight_kg, duration_sec, distance_m
             FROM workout_sets WHERE workout_id = ANY($1::uuid[]) ORDER BY workout_id, position`,
          [keys],
        )
      : { rows: [] };
    const byWorkout = new Map<string, WorkoutSetRecord[]>();
    for (const row of rows) {
      const list = byWorkout.get(row.workout_id) ?? [];
      list.push(toSet(row));
      byWorkout.set(row.workout_id, list);
    }
    return workoutIds.map((id) => byWorkout.get(id.toLowerCase()) ?? []);
  }

  async exercisesByIds(ids: readonly string[]): Promise<(ExerciseRecord | null)[]> {
    const { rows } = await this.pool.query<ExerciseRow>(
      'SELECT id, name, muscle_group FROM exercises WHERE id = ANY($1::text[])',
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, toExercise(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async listExercises(muscleGroup?: MuscleGroup | null): Promise<ExerciseRecord[]> {
    const { rows } = await this.pool.query<ExerciseRow>(
      `SELECT id, name, muscle_group FROM exercises
        WHERE $1::text IS NULL OR muscle_group = $1 ORDER BY name, id`,
      [muscleGroup ?? null],
    );
    return rows.map(toExercise);
  }

  async recentTraining(userIds: readonly string[], since: Date): Promise<RecentTrainingRecord[]> {
    const [workouts, groups] = await Promise.all([
      this.pool.query<{ user_id: string; workouts: number }>(
        `SELECT user_id, count(*)::int AS workouts FROM workouts
          WHERE user_id = ANY($1::text[]) AND started_at >= $2 GROUP BY user_id`,
        [userIds, since],
      ),
      this.pool.query<{
        user_id: string;
        muscle_group: MuscleGroup;
        sets: number;
        volume_kg: number;
        last_trained_at: Date;
      }>(
        `SELECT s.user_id, e.muscle_group, count(*)::int AS sets,
                coalesce(sum(coalesce(s.reps, 0) * coalesce(s.weight_kg, 0)), 0)::float8 AS volume_kg,
                max(s.started_at) AS last_trained_at
           FROM workout_sets s JOIN exercises e ON e.id = s.exercise_id
          WHERE s.user_id = ANY($1::text[]) AND s.started_at >= $2
          GROUP BY s.user_id, e.muscle_group`,
        [userIds, since],
      ),
    ]);
    const counts = new Map(workouts.rows.map((r) => [r.user_id, r.workouts]));
    const trained = new Map(groups.rows.map((r) => [`${r.user_id}\u0000${r.muscle_group}`, r]));
    return userIds.map((userId) => ({
      since,
      workouts: counts.get(userId) ?? 0,
      muscleGroups: MUSCLE_GROUPS.map((muscleGroup) => {
        const row = trained.get(`${userId}\u0000${muscleGroup}`);
        return {
          muscleGroup,
          sets: row?.sets ?? 0,
          volumeKg: row?.volume_kg ?? 0,
          lastTrainedAt: row?.last_trained_at ?? null,
        };
      }),
    }));
  }

  async stats(keys: readonly StatsKey[]): Promise<StatsBucketRecord[][]> {
    const results: StatsBucketRecord[][] = keys.map(() => []);
    // One query per bucket size in the batch (at most three): days are rolled up
    // with date_trunc in SQL, where the numeric sums are exact, and only then
    // turned into float8. The range is the union of the keys' ranges; rows are
    // handed to every key of the same user whose range holds the bucket.
    const sizes = [...new Set(keys.map((k) => k.bucket))];
    await Promise.all(
      sizes.map(async (size) => {
        const group = keys.flatMap((key, index) => (key.bucket === size ? [{ key, index }] : []));
        const start = new Date(Math.min(...group.map((g) => g.key.start.getTime())));
        const end = new Date(Math.max(...group.map((g) => g.key.end.getTime())));
        const { rows } = await this.pool.query<StatsRow>(
          `SELECT user_id, date_trunc($1, day, 'UTC') AS start,
                  sum(workouts)::int AS workouts,
                  sum(duration_sec)::float8 AS duration_sec,
                  sum(volume_kg)::float8 AS volume_kg,
                  sum(distance_m)::float8 AS distance_m,
                  sum(calories)::float8 AS calories
             FROM user_daily_totals
            WHERE user_id = ANY($2::text[]) AND day >= $3 AND day < $4
            GROUP BY 1, 2
            ORDER BY 1, 2`,
          [TRUNC_UNIT[size], [...new Set(group.map((g) => g.key.userId))], start, end],
        );
        for (const row of rows) {
          const at = row.start.getTime();
          for (const { key, index } of group) {
            if (key.userId === row.user_id && at >= key.start.getTime() && at < key.end.getTime()) {
              results[index]!.push({
                start: row.start,
                workouts: row.workouts,
                durationSec: row.duration_sec,
                volumeKg: row.volume_kg,
                distanceM: row.distance_m,
                calories: row.calories,
              });
            }
          }
        }
      }),
    );
    return results;
  }
}
