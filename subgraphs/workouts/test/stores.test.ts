import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fitness/server-kit';
import { createTestDatabase, realService } from '@fitness/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { NewWorkout } from '../src/datasources/models.js';
import { openStores, type WorkoutsStores } from '../src/stores.js';

const logger = createLogger('workouts-test', 'silent');
const policies = { compressSetsAfter: '30 days', setRetention: null, statsRealtimeWindow: '7 days' };

const workout = (userId: string, startedAt: Date, durationSec = 600): NewWorkout => ({
  id: randomUUID(),
  userId,
  sport: 'STRENGTH',
  title: 'restart check',
  startedAt,
  durationSec,
  distanceM: null,
  calories: null,
  sets: [{ exerciseId: 'barbell-bench-press', reps: 5, weightKg: 80, durationSec: null, distanceM: null }],
});

async function totalDuration(stores: WorkoutsStores, userId: string): Promise<number> {
  const [buckets] = await stores.store.stats([
    {
      userId,
      bucket: 'MONTH',
      start: new Date('2020-01-01T00:00:00Z'),
      end: new Date('2030-01-01T00:00:00Z'),
    },
  ]);
  return (buckets ?? []).reduce((sum, b) => sum + b.durationSec, 0);
}

describe('embedded TimescaleDB on a data dir that already exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'workouts-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should take writes, run its policy jobs and answer stats on every start, not only the first', async () => {
    const userId = `u-${randomUUID()}`;
    // An old workout (below the real-time window) goes through the continuous
    // aggregate's invalidation log and refresh, the path a reopened engine broke.
    const old = new Date(Date.now() - 40 * 86_400_000);
    const expected: number[] = [];
    for (let start = 0; start < 3; start += 1) {
      const stores = await openStores({ databaseUrl: undefined, dataDir: join(dir, 'db'), policies }, logger);
      try {
        expect(await stores.ready()).toBe(true);
        const logged = await stores.store.logWorkout(
          workout(userId, start === 1 ? old : new Date(), 600 + start),
        );
        expect(logged.created).toBe(true);
        expected.push(600 + start);
        // Licensed TimescaleDB functions answer (they fail under the Apache licence).
        const { rows } = await stores.pool.query<{ license: string }>(
          "SELECT current_setting('timescaledb.license') AS license",
        );
        expect(rows[0]!.license).toBe('timescale');
        const jobs = await stores.pool.query<{ job_id: number }>(
          "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'",
        );
        await stores.pool.query('CALL run_job($1::integer)', [jobs.rows[0]!.job_id]);
        expect(await totalDuration(stores, userId)).toBe(expected.reduce((a, b) => a + b, 0));
        expect(await stores.store.deleteWorkout(logged.workout.id, userId)).toBe(true);
        expected.pop();
        expect(await totalDuration(stores, userId)).toBe(expected.reduce((a, b) => a + b, 0));
        const again = await stores.store.logWorkout(workout(userId, new Date(), 600 + start));
        expect(again.created).toBe(true);
        expected.push(600 + start);
      } finally {
        await stores.close();
      }
    }
  });
});

describe('readiness on PostgreSQL', () => {
  const admin = realService('postgres', 'workouts readiness');

  it.skipIf(!admin)(
    'should be unready while the database refuses writes, and ready again after',
    async () => {
      const db = await createTestDatabase(admin!);
      const name = new URL(db.url).pathname.slice(1);
      const stores = await openStores({ databaseUrl: db.url, dataDir: 'unused', policies }, logger);
      const control = new pg.Client({ connectionString: admin });
      await control.connect();
      // New sessions of the database start read-only; the pool's current ones are cut.
      const setReadOnly = async (on: boolean) => {
        await control.query(
          `ALTER DATABASE ${name} SET default_transaction_read_only = ${on ? 'on' : 'off'}`,
        );
        await control.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [
          name,
        ]);
        await new Promise((r) => setTimeout(r, 1_100)); // past the cached answer
      };
      try {
        expect(await stores.ready()).toBe(true);
        await setReadOnly(true);
        // The first probe may meet a connection that was just cut; the next one is decisive.
        await stores.ready();
        await new Promise((r) => setTimeout(r, 1_100));
        expect(await stores.ready()).toBe(false);
        // A plain SELECT still works: readiness is about writes, not about answering.
        expect((await stores.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
        await setReadOnly(false);
        await stores.ready();
        await new Promise((r) => setTimeout(r, 1_100));
        expect(await stores.ready()).toBe(true);
        // The probe left nothing behind.
        const { rows } = await stores.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM workout_ids WHERE user_id = 'ready-probe'",
        );
        expect(rows[0]!.n).toBe(0);
      } finally {
        await stores.close();
        await control.end();
        await db.drop();
      }
    },
  );
});
