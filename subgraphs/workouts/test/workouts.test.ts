import { randomUUID } from 'node:crypto';
import { defaultRegistry, type Envelope } from '@fitness/events';
import { createPool, detectEngine, type Engine, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import {
  assertSingleResult,
  errorCodes,
  ORDINARY_TEXT,
  pgEngines,
  REFUSED_CHARACTERS,
  type TestDatabase,
} from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { MUSCLE_GROUPS } from '../src/datasources/models.js';
import { PgWorkoutsStore, type WorkoutsStore } from '../src/datasources/WorkoutsStore.js';
import { createWorkoutsServer } from '../src/server.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('workouts-test', 'silent');

const DAY_MS = 24 * 60 * 60 * 1000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const newUser = () => `u-${randomUUID().slice(0, 8)}`;

interface SetInput {
  exerciseId: string;
  reps?: number;
  weightKg?: number;
  durationSec?: number;
  distanceM?: number;
}

const workoutInput = (patch: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  sport: 'STRENGTH',
  title: 'Leg day',
  startedAt: ago(DAY_MS),
  durationSec: 3600,
  calories: 420.5,
  sets: [
    { exerciseId: 'barbell-back-squat', reps: 5, weightKg: 100 },
    { exerciseId: 'barbell-back-squat', reps: 5, weightKg: 102.5 },
    { exerciseId: 'plank', durationSec: 60 },
  ] as SetInput[],
  ...patch,
});

const LOG = `mutation ($input: LogWorkoutInput!) {
  logWorkout(input: $input) {
    id sport title startedAt durationSec distanceM calories volumeKg
    user { id }
    sets { reps weightKg durationSec distanceM exercise { id name muscleGroup } }
  }
}`;

const ENTITIES = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Workout { id volumeKg sets { reps exercise { id muscleGroup } } }
  ... on Exercise { id name muscleGroup }
  ... on User { id recentTraining { workouts } workouts(first: 2) { edges { node { id } } } }
} }`;

/** Wraps a store and counts calls per method: batching shows as one call for N keys. */
function countingStore(inner: WorkoutsStore) {
  const calls: Record<string, number> = {};
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

describe.each(pgEngines('workouts store', { timescale: true }))('workouts on $name', (pgEngine) => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PgWorkoutsStore;
  let engine: Engine;
  const server = createWorkoutsServer(logger);

  beforeAll(async () => {
    db = await pgEngine.create();
    pool = createPool(db.url);
    engine = await detectEngine(pool);
    await migrate(pool, { dir: migrationsDir, engine, logger });
    store = new PgWorkoutsStore(pool, engine);
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    await pool.end();
    await db.close();
  });

  const run = async (
    query: string,
    variables: Record<string, unknown> = {},
    userId: string | null = null,
    using: WorkoutsStore = store,
  ) =>
    assertSingleResult(
      (
        await server.executeOperation(
          { query, variables },
          { contextValue: createContext({ userId, region: userId ? 'EU' : null }, using, logger) },
        )
      ).body,
    );

  const log = (userId: string | null, input: Record<string, unknown>) => run(LOG, { input }, userId);

  const countRows = async (table: 'workouts' | 'outbox' | 'workout_sets', workoutId: string) => {
    const column =
      table === 'outbox'
        ? "payload->'payload'->>'workoutId'"
        : table === 'workouts'
          ? 'id::text'
          : 'workout_id::text';
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`,
      [workoutId],
    );
    return rows[0]!.n;
  };

  describe('migrations', () => {
    it('should run on the engine the server offers, with hypertables on TimescaleDB', async () => {
      expect(engine).toBe(pgEngine.name.includes('timescaledb') ? 'timescale' : 'postgres');
      if (engine === 'timescale') {
        const { rows } = await pool.query<{ hypertable_name: string }>(
          'SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1',
        );
        expect(rows.map((r) => r.hypertable_name)).toEqual(['workout_sets', 'workouts']);
      }
      // 005 kept the pre-backbone outbox as outbox_legacy beside the library's table.
      const tables = await pool.query<{ table_name: string; columns: string[] }>(
        `SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = ANY($1::text[])
          GROUP BY table_name ORDER BY table_name`,
        [['outbox', 'outbox_legacy', 'processed_events']],
      );
      expect(tables.rows).toEqual([
        {
          table_name: 'outbox',
          columns: [
            'id',
            'type',
            'version',
            'payload',
            'created_at',
            'published_at',
            'attempts',
            'last_error',
          ],
        },
        { table_name: 'outbox_legacy', columns: ['id', 'topic', 'payload', 'created_at', 'published_at'] },
        { table_name: 'processed_events', columns: ['consumer', 'event_id', 'processed_at'] },
      ]);
      const again = await migrate(pool, { dir: migrationsDir, engine, logger });
      expect(again.applied).toEqual([]);
    });
  });

  describe('store contract', () => {
    const validated = (userId: string, patch: Record<string, unknown> = {}) => {
      const input = workoutInput(patch);
      return {
        id: input.id,
        userId,
        sport: 'STRENGTH' as const,
        title: input.title,
        startedAt: new Date(input.startedAt),
        durationSec: input.durationSec,
        distanceM: null,
        calories: input.calories,
        sets: input.sets.map((s) => ({
          exerciseId: s.exerciseId,
          reps: s.reps ?? null,
          weightKg: s.weightKg ?? null,
          durationSec: s.durationSec ?? null,
          distanceM: s.distanceM ?? null,
        })),
      };
    };

    it('should report whether logWorkout created the workout', async () => {
      const workout = validated(newUser());
      expect((await store.logWorkout(workout)).created).toBe(true);
      const retry = await store.logWorkout(workout);
      expect(retry.created).toBe(false);
      expect(retry.workout).toMatchObject({ id: workout.id, userId: workout.userId, volumeKg: 1012.5 });
    });

    it('should load workouts and sets in key order, with null or [] for missing and malformed ids', async () => {
      const userId = newUser();
      const a = validated(userId);
      const b = validated(userId, { sets: [{ exerciseId: 'push-up', reps: 20 }] });
      await store.logWorkout(a);
      await store.logWorkout(b);
      const keys = [b.id, 'not-a-uuid', randomUUID(), a.id.toUpperCase(), b.id];
      expect((await store.workoutsByIds(keys)).map((w) => w?.id ?? null)).toEqual([
        b.id,
        null,
        null,
        a.id,
        b.id,
      ]);
      const sets = await store.setsByWorkoutIds(keys);
      expect(sets.map((list) => list.map((s) => s.exerciseId))).toEqual([
        ['push-up'],
        [],
        [],
        ['barbell-back-squat', 'barbell-back-squat', 'plank'],
        ['push-up'],
      ]);
      expect(sets[3]!.map((s) => s.position)).toEqual([0, 1, 2]);
    });

    it('should answer recent training for several users in key order', async () => {
      const [trained, idle] = [newUser(), newUser()];
      await store.logWorkout(validated(trained));
      const [forIdle, forTrained] = await store.recentTraining(
        [idle, trained],
        new Date(Date.now() - 28 * DAY_MS),
      );
      expect(forIdle!.workouts).toBe(0);
      expect(
        forIdle!.muscleGroups.every((g) => g.sets === 0 && g.volumeKg === 0 && g.lastTrainedAt === null),
      ).toBe(true);
      expect(forTrained!.workouts).toBe(1);
      expect(forTrained!.muscleGroups.find((g) => g.muscleGroup === 'LEGS')).toMatchObject({
        sets: 2,
        volumeKg: 1012.5,
      });
    });
  });

  describe('exercises', () => {
    it('should offer at least 60 exercises by name, covering every muscle group', async () => {
      const result = await run('{ exercises { id name muscleGroup } }');
      expect(result.errors).toBeUndefined();
      const list = (result.data as { exercises: { id: string; name: string; muscleGroup: string }[] })
        .exercises;
      expect(list.length).toBeGreaterThanOrEqual(60);
      expect(new Set(list.map((e) => e.muscleGroup))).toEqual(new Set(MUSCLE_GROUPS));
      const names = list.map((e) => e.name);
      expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(list).toContainEqual({
        id: 'barbell-back-squat',
        name: 'Barbell Back Squat',
        muscleGroup: 'LEGS',
      });
    });

    it('should filter the catalogue by muscle group', async () => {
      const result = await run('{ exercises(muscleGroup: GLUTES) { muscleGroup } }');
      const list = (result.data as { exercises: { muscleGroup: string }[] }).exercises;
      expect(list.length).toBeGreaterThan(0);
      expect(list.every((e) => e.muscleGroup === 'GLUTES')).toBe(true);
    });
  });

  describe('logWorkout', () => {
    it('should store a workout with its volume computed from the sets and one workouts.logged event', async () => {
      const userId = newUser();
      const input = workoutInput();
      const result = await log(userId, input);
      expect(result.errors).toBeUndefined();
      expect(result.data?.logWorkout).toEqual({
        id: input.id,
        sport: 'STRENGTH',
        title: 'Leg day',
        startedAt: input.startedAt,
        durationSec: 3600,
        distanceM: null,
        calories: 420.5,
        volumeKg: 5 * 100 + 5 * 102.5,
        user: { id: userId },
        sets: [
          {
            reps: 5,
            weightKg: 100,
            durationSec: null,
            distanceM: null,
            exercise: { id: 'barbell-back-squat', name: 'Barbell Back Squat', muscleGroup: 'LEGS' },
          },
          {
            reps: 5,
            weightKg: 102.5,
            durationSec: null,
            distanceM: null,
            exercise: { id: 'barbell-back-squat', name: 'Barbell Back Squat', muscleGroup: 'LEGS' },
          },
          {
            reps: null,
            weightKg: null,
            durationSec: 60,
            distanceM: null,
            exercise: { id: 'plank', name: 'Plank', muscleGroup: 'CORE' },
          },
        ],
      });
      const { rows } = await pool.query<{ id: string; type: string; version: number; payload: Envelope }>(
        `SELECT id, type, version, payload FROM outbox WHERE payload->'payload'->>'workoutId' = $1`,
        [input.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ type: 'workouts.logged', version: 2 });
      // The row holds the whole envelope, valid against the v2 schema.
      const event = defaultRegistry.validate(rows[0]!.payload);
      expect(event).toMatchObject({
        id: rows[0]!.id,
        type: 'workouts.logged',
        version: 2,
        producer: 'workouts',
      });
      const squat = {
        exerciseId: 'barbell-back-squat',
        muscleGroup: 'LEGS',
        durationSec: null,
        distanceM: null,
      };
      expect(event.payload).toEqual({
        workoutId: input.id,
        userId,
        region: 'EU',
        startedAt: input.startedAt,
        sport: 'STRENGTH',
        durationSec: 3600,
        volumeKg: 1012.5,
        distanceM: 0,
        calories: 420.5,
        sets: [
          { ...squat, reps: 5, weightKg: 100 },
          { ...squat, reps: 5, weightKg: 102.5 },
          {
            exerciseId: 'plank',
            muscleGroup: 'CORE',
            reps: null,
            weightKg: null,
            durationSec: 60,
            distanceM: null,
          },
        ],
      });
      const stored = await pool.query<{ region: string | null }>(
        'SELECT region FROM workouts WHERE id = $1',
        [input.id],
      );
      expect(stored.rows[0]!.region).toBe('EU');
    });

    it('should return the stored workout for a retry without writing again', async () => {
      const userId = newUser();
      const input = workoutInput();
      const first = await log(userId, input);
      // Same instant in another offset: the content is the same.
      const offset = new Date(input.startedAt).getTime() + 2 * 60 * 60 * 1000;
      const sameInstant = `${new Date(offset).toISOString().slice(0, -1)}+02:00`;
      const retry = await log(userId, { ...input, startedAt: sameInstant });
      expect(retry.errors).toBeUndefined();
      expect(retry.data).toEqual(first.data);
      expect(await countRows('workouts', input.id)).toBe(1);
      expect(await countRows('workout_sets', input.id)).toBe(3);
      expect(await countRows('outbox', input.id)).toBe(1);
    });

    it('should refuse the same id with other content as CONFLICT', async () => {
      const userId = newUser();
      const input = workoutInput();
      await log(userId, input);
      const changed = await log(userId, { ...input, durationSec: 3601 });
      expect(errorCodes(changed)).toEqual(['CONFLICT']);
      expect(changed.data).toBeNull();
      expect(await countRows('outbox', input.id)).toBe(1);
    });

    it("should refuse another user's id as CONFLICT, even with the same content", async () => {
      const input = workoutInput();
      await log(newUser(), input);
      const other = await log(newUser(), input);
      expect(errorCodes(other)).toEqual(['CONFLICT']);
      expect(await countRows('workouts', input.id)).toBe(1);
    });

    it('should store a workout once when 20 identical requests race', async () => {
      const userId = newUser();
      const input = workoutInput();
      const results = await Promise.all(Array.from({ length: 20 }, () => log(userId, input)));
      for (const result of results) {
        expect(result.errors).toBeUndefined();
        expect((result.data!.logWorkout as { id: string }).id).toBe(input.id);
      }
      expect(await countRows('workouts', input.id)).toBe(1);
      expect(await countRows('workout_sets', input.id)).toBe(3);
      expect(await countRows('outbox', input.id)).toBe(1);
    });

    it('should require a signed-in user', async () => {
      expect(errorCodes(await log(null, workoutInput()))).toEqual(['UNAUTHENTICATED']);
    });

    const badInputs: [string, Record<string, unknown>][] = [
      ['a non-UUID id', { id: 'workout-1' }],
      ['durationSec 0', { durationSec: 0 }],
      ['durationSec over a day', { durationSec: 86_401 }],
      ['an invalid startedAt', { startedAt: 'not a date' }],
      ['a startedAt 10 minutes ahead', { startedAt: new Date(Date.now() + 10 * 60 * 1000).toISOString() }],
      ['a startedAt before 2000', { startedAt: '1999-12-31T00:00:00.000Z' }],
      ['201 sets', { sets: Array.from({ length: 201 }, () => ({ exerciseId: 'plank', durationSec: 30 })) }],
      ['reps over 1000', { sets: [{ exerciseId: 'push-up', reps: 1001 }] }],
      ['negative reps', { sets: [{ exerciseId: 'push-up', reps: -1 }] }],
      ['weight over 1000 kg', { sets: [{ exerciseId: 'deadlift', reps: 1, weightKg: 1001 }] }],
      ['a set over a day', { sets: [{ exerciseId: 'plank', durationSec: 86_401 }] }],
      ['a negative set distance', { sets: [{ exerciseId: 'outdoor-run', distanceM: -1 }] }],
      ['a negative distance', { distanceM: -5 }],
      ['negative calories', { calories: -1 }],
      ['a 101-character title', { title: 't'.repeat(101) }],
    ];
    it.each(badInputs)('should refuse %s as BAD_USER_INPUT and store nothing', async (_, patch) => {
      const input = workoutInput(patch);
      const result = await log(newUser(), input);
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      const error = result.errors![0]!;
      expect(error.extensions?.stacktrace).toBeUndefined();
      expect(error.message).not.toMatch(/\n\s+at |SELECT|INSERT/);
      if (typeof input.id === 'string' && /^[0-9a-f-]{36}$/.test(input.id)) {
        expect(await countRows('workouts', input.id)).toBe(0);
      }
    });

    const badCharacters = REFUSED_CHARACTERS.flatMap(([name, c]) => [
      ['title', name, { title: `Leg${c}day` }] as const,
      ['sets[0].exerciseId', name, { sets: [{ exerciseId: `plank${c}`, durationSec: 30 }] }] as const,
    ]);
    it.each(badCharacters)(
      'should refuse %s with %s as BAD_USER_INPUT naming it',
      async (field, _, patch) => {
        const input = workoutInput(patch);
        const result = await log(newUser(), input);
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors![0]!.extensions?.field).toBe(field);
        expect(result.errors![0]!.message).toMatch(/control or invisible characters|unpaired surrogate/);
        expect(await countRows('workouts', input.id)).toBe(0);
      },
    );

    it.each(ORDINARY_TEXT)('should store the title %j as sent', async (title) => {
      const input = workoutInput({ title });
      const result = await log(newUser(), input);
      expect(result.errors).toBeUndefined();
      expect(result.data?.logWorkout).toMatchObject({ title });
      const { rows } = await pool.query<{ title: string }>('SELECT title FROM workouts WHERE id = $1', [
        input.id,
      ]);
      expect(rows[0]?.title).toBe(title);
    });

    it('should refuse an unknown exercise as NOT_FOUND and store nothing', async () => {
      const input = workoutInput({
        sets: [{ exerciseId: 'plank', durationSec: 30 }, { exerciseId: 'moon-walk' }],
      });
      const result = await log(newUser(), input);
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
      expect(result.errors![0]!.message).toBe('Unknown exercise: moon-walk');
      expect(result.errors![0]!.extensions?.stacktrace).toBeUndefined();
      expect(await countRows('workouts', input.id)).toBe(0);
      expect(await countRows('outbox', input.id)).toBe(0);
      // The id was not used up by the failed attempt.
      expect((await log(newUser(), { ...input, sets: [] })).errors).toBeUndefined();
    });
  });

  describe('workout and deleteWorkout', () => {
    const GET = 'query ($id: ID!) { workout(id: $id) { id title user { id } } }';
    const DELETE = 'mutation ($id: ID!) { deleteWorkout(id: $id) }';

    it('should show a workout to its owner only', async () => {
      const owner = newUser();
      const input = workoutInput();
      await log(owner, input);
      const own = await run(GET, { id: input.id }, owner);
      expect(own.data?.workout).toEqual({ id: input.id, title: 'Leg day', user: { id: owner } });
      const other = await run(GET, { id: input.id }, newUser());
      expect(errorCodes(other)).toEqual(['FORBIDDEN']);
      expect(other.data?.workout).toBeNull();
      expect(errorCodes(await run(GET, { id: input.id }))).toEqual(['UNAUTHENTICATED']);
      const missing = await run(GET, { id: randomUUID() }, owner);
      expect(missing.errors).toBeUndefined();
      expect(missing.data?.workout).toBeNull();
      expect((await run(GET, { id: 'not-a-uuid' }, owner)).data?.workout).toBeNull();
    });

    it('should let only the owner delete, write one deleted event and refuse a late retry', async () => {
      const owner = newUser();
      const input = workoutInput();
      await log(owner, input);
      const stranger = await run(DELETE, { id: input.id }, newUser());
      expect(errorCodes(stranger)).toEqual(['FORBIDDEN']);
      expect(await countRows('workouts', input.id)).toBe(1);

      const deleted = await run(DELETE, { id: input.id }, owner);
      expect(deleted.errors).toBeUndefined();
      expect(deleted.data?.deleteWorkout).toBe(true);
      expect(await countRows('workouts', input.id)).toBe(0);
      expect(await countRows('workout_sets', input.id)).toBe(0);
      const { rows } = await pool.query<{ type: string; payload: Envelope }>(
        `SELECT type, payload FROM outbox WHERE payload->'payload'->>'workoutId' = $1 ORDER BY created_at, id`,
        [input.id],
      );
      expect(rows.map((r) => r.type)).toEqual(['workouts.logged', 'workouts.deleted']);
      const [logged, removed] = rows.map((r) => defaultRegistry.validate(r.payload).payload);
      // The deleted event carries the same totals (and region) so read models can subtract them.
      expect(removed).toEqual(logged);
      expect(removed).toMatchObject({ volumeKg: 1012.5, region: 'EU', userId: owner });

      expect((await run(DELETE, { id: input.id }, owner)).data?.deleteWorkout).toBe(false);
      expect((await run(GET, { id: input.id }, owner)).data?.workout).toBeNull();
      // A retry of the original logWorkout arriving after the delete must not resurrect it.
      expect(errorCodes(await log(owner, input))).toEqual(['CONFLICT']);
    });

    it('should answer false for an unknown id, BAD_USER_INPUT for a malformed one, and need a user', async () => {
      expect((await run(DELETE, { id: randomUUID() }, newUser())).data?.deleteWorkout).toBe(false);
      expect(errorCodes(await run(DELETE, { id: 'nope' }, newUser()))).toEqual(['BAD_USER_INPUT']);
      const withNul = await run(DELETE, { id: `${randomUUID()}\u0000` }, newUser());
      expect(withNul.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
      expect(errorCodes(await run(DELETE, { id: randomUUID() }))).toEqual(['UNAUTHENTICATED']);
    });
  });

  describe('User.workouts', () => {
    const PAGE = `query ($reps: [_Any!]!, $first: Int, $after: String) {
      _entities(representations: $reps) { ... on User {
        workouts(first: $first, after: $after) { edges { cursor node { id startedAt } } pageInfo { hasNextPage endCursor } }
      } }
    }`;
    interface Page {
      edges: { cursor: string; node: { id: string; startedAt: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    }
    const page = async (userId: string, first: number, after: string | null, viewer = userId) => {
      const result = await run(PAGE, { reps: [{ __typename: 'User', id: userId }], first, after }, viewer);
      return {
        result,
        page: (result.data?._entities as ({ workouts: Page | null } | null)[] | undefined)?.[0]?.workouts,
      };
    };

    it('should page newest first with stable cursors and no duplicates', async () => {
      const userId = newUser();
      // Two pairs share a start time, so the id must break ties in the keyset.
      const starts = [1, 2, 2, 3, 4, 4, 5].map((d) => ago(d * DAY_MS + 1000));
      const ids: string[] = [];
      for (const startedAt of starts) {
        const input = workoutInput({ startedAt, sets: [] });
        ids.push(input.id);
        expect((await log(userId, input)).errors).toBeUndefined();
      }
      await log(newUser(), workoutInput());
      const expected = starts
        .map((startedAt, i) => ({ id: ids[i]!, startedAt }))
        .sort((a, b) =>
          a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1,
        )
        .map((w) => w.id);

      const seen: string[] = [];
      let after: string | null = null;
      const cursors: (string | null)[] = [];
      for (let i = 0; i < 5; i++) {
        const { result, page: p } = await page(userId, 3, after);
        expect(result.errors).toBeUndefined();
        seen.push(...p!.edges.map((e) => e.node.id));
        expect(p!.pageInfo.endCursor).toBe(p!.edges.at(-1)?.cursor ?? null);
        cursors.push(after);
        after = p!.pageInfo.endCursor;
        if (!p!.pageInfo.hasNextPage) break;
      }
      expect(seen).toEqual(expected);
      expect(cursors).toHaveLength(3);
      // Asking again with a cursor gives the same page.
      const again = await page(userId, 3, cursors[1]!);
      expect(again.page!.edges.map((e) => e.node.id)).toEqual(expected.slice(3, 6));
    });

    it('should refuse a malformed cursor and a page size below 1', async () => {
      const userId = newUser();
      for (const bad of ['%%%', 'bm90LWpzb24', Buffer.from('[1,2]').toString('base64url')]) {
        const { result } = await page(userId, 3, bad);
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      }
      expect(errorCodes((await page(userId, 0, null)).result)).toEqual(['BAD_USER_INPUT']);
      for (const [, c] of REFUSED_CHARACTERS) {
        const { result } = await page(userId, 3, `bm90${c}`);
        expect(result.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
      }
    });
  });

  describe('self-only fields', () => {
    it('should give other users null with FORBIDDEN for workouts and recentTraining', async () => {
      const owner = newUser();
      await log(owner, workoutInput());
      const query = `query ($reps: [_Any!]!) { _entities(representations: $reps) {
        ... on User { id workouts { edges { node { id } } } recentTraining { workouts } } } }`;
      for (const viewer of [newUser(), null]) {
        const result = await run(query, { reps: [{ __typename: 'User', id: owner }] }, viewer);
        expect(result.data?._entities).toEqual([{ id: owner, workouts: null, recentTraining: null }]);
        expect(errorCodes(result)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
        expect(result.errors!.map((e) => e.path?.join('.')).sort()).toEqual([
          '_entities.0.recentTraining',
          '_entities.0.workouts',
        ]);
      }
      const own = await run(query, { reps: [{ __typename: 'User', id: owner }] }, owner);
      expect(own.errors).toBeUndefined();
    });
  });

  describe('User.recentTraining', () => {
    it('should match an independent computation over the last 28 days', async () => {
      const userId = newUser();
      const inputs = [
        workoutInput({
          startedAt: ago(DAY_MS),
          sets: [
            { exerciseId: 'barbell-back-squat', reps: 5, weightKg: 100 },
            { exerciseId: 'leg-press', reps: 10, weightKg: 150.5 },
            { exerciseId: 'barbell-bench-press', reps: 8, weightKg: 60 },
          ],
        }),
        workoutInput({
          startedAt: ago(10 * DAY_MS),
          sets: [
            { exerciseId: 'plank', durationSec: 60 },
            { exerciseId: 'deadlift', reps: 3, weightKg: 140 },
            { exerciseId: 'barbell-back-squat', reps: 3, weightKg: 120 },
          ],
        }),
        workoutInput({ startedAt: ago(27 * DAY_MS), sport: 'RUN', sets: [] }),
        // Outside the window.
        workoutInput({
          startedAt: ago(40 * DAY_MS),
          sets: [{ exerciseId: 'hip-thrust', reps: 10, weightKg: 80 }],
        }),
      ];
      for (const input of inputs) expect((await log(userId, input)).errors).toBeUndefined();
      await log(newUser(), workoutInput());

      const catalogue = new Map(
        (
          (await run('{ exercises { id muscleGroup } }')).data as {
            exercises: { id: string; muscleGroup: string }[];
          }
        ).exercises.map((e) => [e.id, e.muscleGroup]),
      );
      const since = Date.now() - 28 * DAY_MS;
      const inWindow = inputs.filter((w) => Date.parse(w.startedAt) >= since);
      const expected = MUSCLE_GROUPS.map((muscleGroup) => {
        const sets = inWindow.flatMap((w) =>
          w.sets
            .filter((s) => catalogue.get(s.exerciseId) === muscleGroup)
            .map((s) => ({ s, at: w.startedAt })),
        );
        return {
          muscleGroup,
          sets: sets.length,
          volumeKg: sets.reduce((sum, { s }) => sum + (s.reps ?? 0) * (s.weightKg ?? 0), 0),
          lastTrainedAt: sets.length
            ? sets
                .map((x) => x.at)
                .sort()
                .at(-1)
            : null,
        };
      });

      const result = await run(
        `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User {
          recentTraining { since workouts muscleGroups { muscleGroup sets volumeKg lastTrainedAt } } } } }`,
        { reps: [{ __typename: 'User', id: userId }] },
        userId,
      );
      expect(result.errors).toBeUndefined();
      const training = (
        result.data!._entities as {
          recentTraining: { since: string; workouts: number; muscleGroups: typeof expected };
        }[]
      )[0]!.recentTraining;
      expect(training.workouts).toBe(inWindow.length);
      expect(Math.abs(Date.parse(training.since) - since)).toBeLessThan(60_000);
      expect(training.muscleGroups).toHaveLength(9);
      for (const [i, group] of training.muscleGroups.entries()) {
        const want = expected[i]!;
        expect(group.muscleGroup).toBe(want.muscleGroup);
        expect(group.sets).toBe(want.sets);
        expect(group.volumeKg).toBeCloseTo(want.volumeKg, 6);
        expect(group.lastTrainedAt).toBe(want.lastTrainedAt);
      }
      expect(expected.find((g) => g.muscleGroup === 'LEGS')).toMatchObject({ sets: 3, volumeKg: 2365 });
      expect(expected.find((g) => g.muscleGroup === 'GLUTES')).toMatchObject({
        sets: 0,
        lastTrainedAt: null,
      });
    });
  });

  describe('federation', () => {
    it('should expose its SDL through _service', async () => {
      const result = await run('{ _service { sdl } }');
      const sdl = (result.data as { _service: { sdl: string } })._service.sdl;
      expect(sdl).toMatch(/type Workout\s+@key\(fields: "id"\)/);
      expect(sdl).toMatch(/type Exercise\s+@key\(fields: "id"\)/);
      expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
      expect(sdl).toContain('recentTraining: RecentTraining');
    });

    it('should resolve N Workout entities with one store call per level', async () => {
      const owner = newUser();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const input = workoutInput();
        ids.push(input.id);
        await log(owner, input);
      }
      const missing = randomUUID();
      const { store: spy, calls } = countingStore(store);
      const result = await run(
        ENTITIES,
        { reps: [ids[2], missing, ids[0], ids[1]].map((id) => ({ __typename: 'Workout', id })) },
        owner,
        spy,
      );
      expect(result.errors).toBeUndefined();
      const entities = result.data?._entities as ({ id: string; volumeKg: number; sets: unknown[] } | null)[];
      expect(entities.map((e) => e?.id ?? null)).toEqual([ids[2], null, ids[0], ids[1]]);
      expect(entities[0]!.sets).toHaveLength(3);
      expect(calls).toEqual({ workoutsByIds: 1, setsByWorkoutIds: 1, exercisesByIds: 1 });
    });

    it("should refuse another user's Workout entity", async () => {
      const input = workoutInput();
      await log(newUser(), input);
      const result = await run(ENTITIES, { reps: [{ __typename: 'Workout', id: input.id }] }, newUser());
      expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    });

    it('should resolve N Exercise entities with one store call, in key order', async () => {
      const { store: spy, calls } = countingStore(store);
      const result = await run(
        ENTITIES,
        { reps: ['deadlift', 'nope', 'plank', 'hip-thrust'].map((id) => ({ __typename: 'Exercise', id })) },
        null,
        spy,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?._entities).toEqual([
        { id: 'deadlift', name: 'Deadlift', muscleGroup: 'FULL_BODY' },
        null,
        { id: 'plank', name: 'Plank', muscleGroup: 'CORE' },
        { id: 'hip-thrust', name: 'Hip Thrust', muscleGroup: 'GLUTES' },
      ]);
      expect(calls).toEqual({ exercisesByIds: 1 });
    });

    it('should resolve User entities as references, loading recent training once', async () => {
      const owner = newUser();
      await log(owner, workoutInput());
      const others = [newUser(), newUser()];
      const { store: spy, calls } = countingStore(store);
      const result = await run(
        ENTITIES,
        { reps: [owner, others[0], owner, others[1]].map((id) => ({ __typename: 'User', id })) },
        owner,
        spy,
      );
      const entities = result.data?._entities as {
        id: string;
        recentTraining: { workouts: number } | null;
      }[];
      expect(entities.map((e) => e.id)).toEqual([owner, others[0], owner, others[1]]);
      expect(entities.map((e) => e.recentTraining?.workouts ?? null)).toEqual([1, null, 1, null]);
      expect(errorCodes(result)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
      // The viewer's own entity appears twice: the loader asks the store once.
      expect(calls.recentTraining).toBe(1);
    });
  });
});
