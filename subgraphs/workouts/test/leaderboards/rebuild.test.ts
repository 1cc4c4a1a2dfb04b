import { createPool, detectEngine, migrate, type Pool } from '@fitness/pg-kit';
import { pgEngines, type TestDatabase } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSpecs, boardId } from '../../src/leaderboards/boards.js';
import type { LeaderboardStore } from '../../src/leaderboards/LeaderboardStore.js';
import type { Region, WorkoutChange } from '../../src/leaderboards/model.js';
import { boardsAt, rebuildBoards } from '../../src/leaderboards/rebuild.js';
import { migrationsDir } from '../../src/stores.js';
import { change, deletion, engines, logger } from './helpers.js';

const DAY_MS = 86_400_000;

/** A seeded pseudo-random generator: the dataset is the same on every run. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** Workouts over the last ~40 days with awkward fractions, ties and every region, some deleted. */
function dataset(now: Date): { logged: WorkoutChange[]; deleted: WorkoutChange[] } {
  const rnd = random(42);
  const regions: (Region | null)[] = ['EU', 'US', 'APAC', null];
  const logged = Array.from({ length: 240 }, (_, i) =>
    change({
      userId: `user-${Math.floor(rnd() * 12)}`,
      region: regions[i % 4]!,
      startedAt: new Date(now.getTime() - Math.floor(rnd() * 40 * DAY_MS)),
      durationSec: 60 + Math.floor(rnd() * 5000),
      // Half of them share round amounts, so ties occur; the rest are fractions like 10.1.
      volumeKg: i % 2 ? 500 : Math.round(rnd() * 100_000) / 10,
      distanceM: i % 3 ? 0 : Math.round(rnd() * 2_000_000) / 100,
      calories: i % 5 ? 0.1 + 0.2 * Math.floor(rnd() * 10) : 0,
    }),
  );
  return { logged, deleted: logged.filter((_, i) => i % 7 === 0) };
}

async function insert(pool: Pool, w: WorkoutChange) {
  await pool.query(
    'INSERT INTO workout_ids (id, user_id, content_hash, started_at) VALUES ($1, $2, $3, $4)',
    [w.workoutId, w.userId, 'h', w.startedAt],
  );
  await pool.query(
    `INSERT INTO workouts (id, user_id, region, sport, started_at, duration_sec, distance_m, calories, volume_kg, content_hash)
     VALUES ($1, $2, $3, 'RUN', $4, $5, $6, $7, $8, 'h')`,
    [w.workoutId, w.userId, w.region, w.startedAt, w.durationSec, w.distanceM, w.calories, w.volumeKg],
  );
}

describe.each(pgEngines('leaderboard rebuild', { timescale: true }))('rebuild from $name', (pgEngine) => {
  let db: TestDatabase;
  let pool: Pool;
  const now = new Date();
  const data = dataset(now);

  beforeAll(async () => {
    db = await pgEngine.create();
    pool = createPool(db.url);
    await migrate(pool, { dir: migrationsDir, engine: await detectEngine(pool), logger });
    for (const w of data.logged) await insert(pool, w);
    for (const w of data.deleted) await pool.query('DELETE FROM workouts WHERE id = $1', [w.workoutId]);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.close();
  });

  describe.each(engines())('into $name', (engine) => {
    const stores: LeaderboardStore[] = [];
    afterAll(async () => {
      for (const s of stores) await s.close();
    });

    it('should equal the incremental boards on every current board, ties included', async () => {
      const incremental = engine.open().store;
      const rebuilt = engine.open().store;
      stores.push(incremental, rebuilt);
      // Incremental: every logging, then deletions (some delivered before their logging would be
      // equivalent, the store test covers that).
      for (const w of data.logged) await incremental.apply(w, now);
      for (const w of data.deleted) await incremental.apply(deletion(w), now);
      const boards = boardsAt(now);
      const result = await rebuildBoards(pool, rebuilt, boards, now);
      expect(result).toHaveLength(80);
      let compared = 0;
      for (const ref of boards) {
        const [a, b] = [await incremental.top(ref, 100), await rebuilt.top(ref, 100)];
        expect({ board: boardId(ref), entries: b.entries }).toEqual({
          board: boardId(ref),
          entries: a.entries,
        });
        compared += a.entries.length;
      }
      expect(compared).toBeGreaterThan(200);
    });

    it('should replace a board that drifted, and only the boards asked for', async () => {
      const store = engine.open().store;
      stores.push(store);
      const drift = change({ userId: 'ghost', volumeKg: 1e6, startedAt: now });
      await store.apply(drift, now);
      const [weekVolume] = boardsAt(now, [{ metric: 'VOLUME_KG', period: 'WEEK', region: null }]);
      await rebuildBoards(pool, store, [weekVolume!], now);
      expect((await store.top(weekVolume!, 100)).entries.map((e) => e.userId)).not.toContain('ghost');
      const [weekCount] = boardsAt(now, [{ metric: 'WORKOUTS', period: 'WEEK', region: null }]);
      expect((await store.top(weekCount!, 100)).entries.map((e) => e.userId)).toContain('ghost');
      expect(allSpecs()).toHaveLength(80);
    });
  });
});
