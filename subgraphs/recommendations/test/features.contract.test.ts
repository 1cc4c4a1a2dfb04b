import { afterAll, describe, expect, it } from 'vitest';
import type { FeatureStore } from '../src/features/FeatureStore.js';
import { FEATURE_HORIZON_MS } from '../src/features/model.js';
import { daysAgo, deletedOf, featureEngines, logged, sets } from './featureHelpers.js';

const now = new Date();

/** Everything a store answers for these users, in comparable form. */
async function snapshot(store: FeatureStore, users: string[]) {
  const model = await store.model();
  const out: Record<string, unknown> = {
    users: Object.fromEntries([...model.users].sort()),
    pairs: Object.fromEntries([...model.pairs].sort()),
    groups: Object.fromEntries([...model.groups].sort()),
  };
  for (const u of users) {
    const f = await store.features(u, now);
    out[u] = {
      exercises: [...f.exercises].sort(([a], [b]) => (a < b ? -1 : 1)),
      groups: [...f.muscleGroups].sort(([a], [b]) => (a < b ? -1 : 1)),
      done: [...(await store.exercisesOf(u))].sort(),
    };
  }
  return out;
}

describe.each(featureEngines())('FeatureStore contract on $name', (engine) => {
  const opened: FeatureStore[] = [];
  const fresh = () => {
    const store = engine.open();
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    for (const s of opened) await s.close();
  });

  it('should keep per exercise the sessions (load, reps, date) newest first, and per group weekly volume and last trained', async () => {
    const store = fresh();
    await store.apply(logged('ann', daysAgo(10, now), [...sets('barbell-bench-press', 60, 8, 8, 8)]), now);
    await store.apply(
      logged('ann', daysAgo(2, now), [
        ...sets('barbell-bench-press', 50, 10),
        ...sets('barbell-bench-press', 62.5, 8, 6),
      ]),
      now,
    );
    await store.apply(logged('ann', daysAgo(1, now), [...sets('barbell-back-squat', 100, 5, 5)]), now);
    const f = await store.features('ann', now);
    expect(
      f.exercises.get('barbell-bench-press')!.map((s) => [s.loadKg, s.repsAtLoad, s.sets, s.date.getTime()]),
    ).toEqual([
      [62.5, [8, 6], 3, daysAgo(2, now).getTime()],
      [60, [8, 8, 8], 3, daysAgo(10, now).getTime()],
    ]);
    expect(f.muscleGroups.get('CHEST')).toEqual({
      weeklySets: 3,
      weeklyVolumeKg: 500 + 875,
      windowSets: 6,
      lastTrainedAt: daysAgo(2, now),
    });
    expect(f.muscleGroups.get('LEGS')).toMatchObject({ weeklySets: 2, weeklyVolumeKg: 1000 });
    expect([...(await store.exercisesOf('ann'))].sort()).toEqual([
      'barbell-back-squat',
      'barbell-bench-press',
    ]);
    expect((await store.features('nobody', now)).exercises.size).toBe(0);
  });

  it('should apply a workout once however often it is delivered, and undo a deletion exactly', async () => {
    const store = fresh();
    const a = logged('bob', daysAgo(3, now), sets('pull-up', null, 10, 10));
    const b = logged('bob', daysAgo(1, now), [...sets('pull-up', null, 12), ...sets('barbell-row', 70, 8)]);
    expect(await store.apply(a, now)).toBe('applied');
    expect(await store.apply(a, now)).toBe('duplicate');
    expect(await store.apply({ ...a, eventId: crypto.randomUUID() }, now)).toBe('duplicate');
    const outcomes = await Promise.all([1, 2, 3].map(() => store.apply(b, now)));
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    const model = await store.model();
    expect(model.users.get('pull-up')).toBe(1);
    expect(model.pairs.get('barbell-row|pull-up')).toBe(1);
    expect(await store.apply(deletedOf(b), now)).toBe('applied');
    expect(await store.apply(deletedOf(b), now)).toBe('duplicate');
    expect([...(await store.exercisesOf('bob'))]).toEqual(['pull-up']);
    expect((await store.model()).pairs.size).toBe(0);
    expect((await store.features('bob', now)).exercises.get('pull-up')).toHaveLength(1);
    await store.apply(deletedOf(a), now);
    expect(await store.exercisesOf('bob')).toEqual(new Set());
    expect((await store.model()).users.size).toBe(0);
  });

  it('should end the same when a deletion arrives before its logging', async () => {
    const store = fresh();
    const gone = logged('cy', daysAgo(1, now), sets('deadlift', 140, 3));
    await store.apply(deletedOf(gone), now);
    await store.apply(gone, now);
    await store.apply(gone, now);
    expect(await snapshot(store, ['cy'])).toEqual(await snapshot(fresh(), ['cy']));
  });

  it("should erase a user's features and part of the model, and let no later event of theirs back", async () => {
    const store = fresh();
    const others = async () => snapshot(store, ['stay']);
    await store.apply(
      logged('stay', daysAgo(1, now), [...sets('plank', null, 1), ...sets('push-up', null, 20)]),
      now,
    );
    const before = await others();
    const mine = [
      logged('gone', daysAgo(1, now), [...sets('plank', null, 1), ...sets('push-up', null, 15)]),
      logged('gone', daysAgo(3, now), [...sets('deadlift', 140, 3), ...sets('plank', null, 1)]),
    ];
    for (const c of mine) await store.apply(c, now);
    expect(await store.userIds()).toEqual(new Set(['stay', 'gone']));
    expect(await store.eraseUser('gone')).toBe('applied');
    expect(await store.userIds()).toEqual(new Set(['stay']));
    expect(await others()).toEqual(before);
    expect(await snapshot(store, ['gone'])).toMatchObject({ gone: { exercises: [], groups: [], done: [] } });
    // Late events of the account: a logging never seen, a deletion of one erased.
    expect(await store.apply(logged('gone', daysAgo(0, now), sets('deadlift', 150, 2)), now)).toBe('erased');
    expect(await store.apply(deletedOf(mine[0]!), now)).toBe('erased');
    expect(await store.eraseUser('gone')).toBe('duplicate');
    expect(await others()).toEqual(before);
    expect(await store.exercisesOf('gone')).toEqual(new Set());
  });

  it('should count users, not workouts, in the co-occurrence model', async () => {
    const store = fresh();
    for (const day of [1, 2, 3])
      await store.apply(
        logged('dee', daysAgo(day, now), [...sets('plank', null, 1), ...sets('push-up', null, 20)]),
        now,
      );
    await store.apply(
      logged('eve', daysAgo(1, now), [...sets('plank', null, 1), ...sets('barbell-curl', 30, 10)]),
      now,
    );
    const model = await store.model();
    expect(Object.fromEntries(model.users)).toEqual({ plank: 2, 'push-up': 1, 'barbell-curl': 1 });
    expect(Object.fromEntries(model.pairs)).toEqual({ 'plank|push-up': 1, 'barbell-curl|plank': 1 });
    expect(model.groups.get('push-up')).toBe('CHEST');
  });

  it('should keep workouts older than the horizon out of the features but in the incidence', async () => {
    const store = fresh();
    const old = new Date(now.getTime() - FEATURE_HORIZON_MS - 86_400_000);
    await store.apply(logged('fay', old, sets('leg-press', 150, 10)), now);
    expect((await store.features('fay', now)).exercises.size).toBe(0);
    expect([...(await store.exercisesOf('fay'))]).toEqual(['leg-press']);
  });

  it('should learn nothing from a v1 event and not subtract its deletion', async () => {
    const store = fresh();
    const v1 = logged('gus', daysAgo(1, now), null);
    await store.apply(logged('gus', daysAgo(2, now), sets('overhead-press', 40, 5)), now);
    await store.apply(v1, now);
    await store.apply({ ...deletedOf(v1), sets: sets('overhead-press', 40, 5) }, now);
    expect([...(await store.exercisesOf('gus'))]).toEqual(['overhead-press']);
  });

  it('should equal, rebuilt from the surviving workouts, what shuffled, duplicated incremental delivery built', async () => {
    const incremental = fresh();
    const rebuilt = fresh();
    const pool = [
      'barbell-bench-press',
      'barbell-back-squat',
      'pull-up',
      'deadlift',
      'plank',
      'lateral-raise',
    ];
    const users = ['u1', 'u2', 'u3', 'u4'];
    const workouts = Array.from({ length: 40 }, (_, i) =>
      logged(users[i % 4]!, daysAgo(i % 30, now), [
        ...sets(pool[i % 6]!, 20 + (i % 5) * 5, 8, 8),
        ...sets(pool[(i * 7 + 3) % 6]!, 40, 5),
      ]),
    );
    const deleted = workouts.filter((_, i) => i % 4 === 1);
    const events = [...workouts, ...deleted.map(deletedOf)];
    const deliveries = [...events, ...events.slice(0, 15)].sort(() => Math.random() - 0.5);
    for (const e of deliveries) await incremental.apply(e, now);
    for (const w of workouts) if (!deleted.includes(w)) await rebuilt.apply(w, now);
    expect(await snapshot(incremental, users)).toEqual(await snapshot(rebuilt, users));
    await rebuilt.clear();
    expect((await rebuilt.model()).users.size).toBe(0);
  });
});
