import { randomUUID } from 'node:crypto';
import {
  createEnvelope,
  usersDeletedEvent as deletedEvent,
  InProcessEventBus,
  OutboxRelay,
} from '@fitness/events';
import { createPool, detectEngine, type Engine, migrate, type Pool } from '@fitness/pg-kit';
import { createLogger } from '@fitness/server-kit';
import { pgEngines, type TestDatabase, waitFor } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkoutsErasure } from '../src/accounts/erasure.js';
import type { NewWorkout } from '../src/datasources/models.js';
import { PgWorkoutsStore } from '../src/datasources/WorkoutsStore.js';
import { currentBoard, liveBoards } from '../src/leaderboards/boards.js';
import { startLeaderboardConsumer } from '../src/leaderboards/consumer.js';
import { MemoryLeaderboardStore } from '../src/leaderboards/MemoryLeaderboardStore.js';
import { MemoryBoardNotices } from '../src/leaderboards/notices.js';
import { migrationsDir } from '../src/stores.js';

const logger = createLogger('workouts-erasure-test', 'silent');
const DAY_MS = 24 * 3600_000;

const workout = (userId: string, daysAgo: number, patch: Partial<NewWorkout> = {}): NewWorkout => ({
  id: randomUUID(),
  userId,
  region: 'EU',
  sport: 'STRENGTH',
  title: 'Legs',
  startedAt: new Date(Date.now() - daysAgo * DAY_MS - 3600_000),
  durationSec: 3600,
  distanceM: null,
  calories: 400,
  sets: [{ exerciseId: 'barbell-back-squat', reps: 5, weightKg: 100, durationSec: null, distanceM: null }],
  ...patch,
});

describe.each(pgEngines('workouts account erasure', { timescale: true }))(
  'workouts erasure on $name',
  (pgEngine) => {
    let db: TestDatabase;
    let pool: Pool;
    let engine: Engine;
    let store: PgWorkoutsStore;
    const bus = new InProcessEventBus();
    const boards = new MemoryLeaderboardStore();
    const notices = new MemoryBoardNotices();
    const stops: (() => Promise<unknown>)[] = [];
    let erasure: Awaited<ReturnType<typeof startWorkoutsErasure>>;
    let applied: Awaited<ReturnType<typeof startLeaderboardConsumer>>;

    beforeAll(async () => {
      db = await pgEngine.create();
      pool = createPool(db.url);
      engine = await detectEngine(pool);
      await migrate(pool, { dir: migrationsDir, engine, logger });
      store = new PgWorkoutsStore(pool, engine, logger);
      const relay = new OutboxRelay({ pool, bus, logger, pollIntervalMs: 20 });
      await relay.start();
      applied = await startLeaderboardConsumer({ bus, store: boards, notices, logger });
      erasure = await startWorkoutsErasure({ bus, pool, store, boards, notices, logger });
      stops.push(
        () => erasure.stop(),
        () => applied.stop(),
        () => relay.stop(),
      );
    });

    afterAll(async () => {
      for (const stop of stops) await stop();
      await bus.close();
      await pool.end();
      await db.close();
    });

    const rowsOf = async (userId: string) => {
      const { rows } = await pool.query<Record<string, number>>(
        `SELECT (SELECT count(*)::int FROM workouts WHERE user_id = $1) AS workouts,
              (SELECT count(*)::int FROM workout_sets WHERE user_id = $1) AS sets,
              (SELECT count(*)::int FROM workout_ids WHERE user_id = $1) AS ids,
              (SELECT count(*)::int FROM outbox WHERE payload->'payload'->>'userId' = $1) AS outbox,
              (SELECT count(*)::int FROM user_daily_totals WHERE user_id = $1) AS days`,
        [userId],
      );
      return rows[0]!;
    };
    const onBoards = async (userId: string) => {
      const tops = await Promise.all(liveBoards(new Date()).map((ref) => boards.top(ref, 100)));
      return tops.filter((top) => top.entries.some((e) => e.userId === userId)).length;
    };
    const settled = async () => {
      const [a, e] = [await applied.metrics(), await erasure.metrics()];
      return (a.pending ?? 0) + (e.pending ?? 0) === 0;
    };

    it('should erase the workouts, sets, ids, outbox rows, daily totals and board entries of a deleted account, and nobody else', async () => {
      const gone = `gone-${randomUUID().slice(0, 8)}`;
      const kept = `kept-${randomUUID().slice(0, 8)}`;
      for (const days of [0, 1, 20, 40]) await store.logWorkout(workout(gone, days));
      await store.logWorkout(workout(kept, 0));
      await store.logWorkout(workout(kept, 40));
      if (engine === 'timescale') {
        // Materialized days keep their totals until refreshed: the erasure must refresh them.
        await pool.query(`CALL refresh_continuous_aggregate('user_daily_totals', NULL, $1::timestamptz)`, [
          new Date(Date.now() - 10 * DAY_MS),
        ]);
      }
      await waitFor(
        async () => (await onBoards(gone)) > 0 && (await onBoards(kept)) > 0,
        'both on the boards',
      );
      const keptBefore = { rows: await rowsOf(kept), boards: await onBoards(kept) };
      const weekBoard = currentBoard({ metric: 'VOLUME_KG', period: 'WEEK', region: 'EU' }, new Date());
      const keptScore = (await boards.top(weekBoard, 10)).entries.find((e) => e.userId === kept);

      await bus.publish(deletedEvent(gone));
      await waitFor(
        async () => (await onBoards(gone)) === 0 && (await rowsOf(gone)).workouts === 0,
        'the erasure',
      );
      await waitFor(async () => (await rowsOf(gone)).days === 0, 'the daily totals');
      expect(await rowsOf(gone)).toEqual({ workouts: 0, sets: 0, ids: 0, outbox: 0, days: 0 });
      expect({ rows: await rowsOf(kept), boards: await onBoards(kept) }).toEqual(keptBefore);
      expect((await boards.top(weekBoard, 10)).entries.find((e) => e.userId === kept)).toEqual(keptScore);
      const stats = await store.stats([
        { userId: gone, bucket: 'MONTH', start: new Date(Date.now() - 90 * DAY_MS), end: new Date() },
      ]);
      expect(stats).toEqual([[]]);
    });

    it('should refuse a workout of an erased account, let none of its late events on a board, and change nothing on a replay', async () => {
      const gone = `gone-${randomUUID().slice(0, 8)}`;
      const late = workout(gone, 0);
      await store.logWorkout(workout(gone, 2));
      await waitFor(async () => (await onBoards(gone)) > 0, 'on the boards');
      await bus.publish(deletedEvent(gone));
      await waitFor(async () => (await rowsOf(gone)).workouts === 0 && (await settled()), 'the erasure');

      await expect(store.logWorkout(late)).rejects.toMatchObject({
        extensions: { code: 'UNAUTHENTICATED' },
      });
      // A workouts.logged that was already on its way when the account went.
      await bus.publish(
        createEnvelope(
          'workouts.logged',
          1,
          {
            workoutId: late.id,
            userId: gone,
            region: 'EU',
            startedAt: late.startedAt.toISOString(),
            sport: 'STRENGTH',
            durationSec: 3600,
            volumeKg: 500,
            distanceM: 0,
            calories: 400,
          },
          { producer: 'workouts' },
        ),
      );
      const before = await erasure.metrics();
      await bus.publish(deletedEvent(gone));
      await waitFor(
        async () => (await erasure.metrics()).processed === before.processed + 1 && (await settled()),
        'the replay and the late event',
      );
      expect(await onBoards(gone)).toBe(0);
      expect(await rowsOf(gone)).toEqual({ workouts: 0, sets: 0, ids: 0, outbox: 0, days: 0 });
    });
  },
);
