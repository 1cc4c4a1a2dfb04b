import { describe, expect, it } from 'vitest';
import { adviseFromFeatures, loadIncrement } from '../src/engine/advice.js';
import { suggestExercises } from '../src/engine/similarity.js';
import { MemoryFeatureStore } from '../src/features/MemoryFeatureStore.js';
import { daysAgo, logged, sets } from './featureHelpers.js';

const now = new Date('2026-11-26T12:00:00.000Z');

/** A store fed with the given users' workouts, and the advice for `userId`. */
async function adviceFor(userId: string, workouts: ReturnType<typeof logged>[]) {
  const store = new MemoryFeatureStore();
  for (const w of workouts) await store.apply(w, now);
  return adviseFromFeatures({
    features: await store.features(userId, now),
    done: await store.exercisesOf(userId),
    model: await store.model(),
    now,
  });
}

const bench = (day: number, weight: number, ...reps: number[]) =>
  logged('ann', daysAgo(day, now), sets('barbell-bench-press', weight, ...reps));

describe('advice from features', () => {
  it('should advise raising the load after four sessions at one load with every rep done', async () => {
    const advice = await adviceFor(
      'ann',
      [1, 3, 5, 7].map((d) => bench(d, 60, 8, 8, 8)),
    );
    const overload = advice.find((a) => a.kind === 'PROGRESSIVE_OVERLOAD');
    expect(overload).toMatchObject({
      id: 'PROGRESSIVE_OVERLOAD:barbell-bench-press',
      title: 'Add 2.5 kg to Barbell bench press',
      exercise: { id: 'barbell-bench-press' },
      score: 0.83,
    });
    expect(overload!.reason).toBe(
      'Your last 4 sessions of Barbell bench press were all at 60 kg, with every set done for 8 reps. Try 62.5 kg next time (+2.5 kg) and work back up to 8 reps.',
    );
    expect(advice.map((a) => a.score)).toEqual([...advice.map((a) => a.score)].sort((a, b) => b - a));
    // Six untrained groups do not bury it: each further one of a kind scores less.
    expect(advice.slice(0, 3).map((a) => a.kind)).toContain('PROGRESSIVE_OVERLOAD');
  });

  it('should not advise it when a set fell short, the load changed, or there are too few sessions', async () => {
    const shortSet = await adviceFor('ann', [
      bench(1, 60, 8, 8, 6),
      bench(3, 60, 8, 8, 8),
      bench(5, 60, 8, 8, 8),
    ]);
    const newLoad = await adviceFor('ann', [
      bench(1, 62.5, 8, 8, 8),
      bench(3, 60, 8, 8, 8),
      bench(5, 60, 8, 8, 8),
    ]);
    const twoOnly = await adviceFor('ann', [bench(1, 60, 8, 8, 8), bench(3, 60, 8, 8, 8)]);
    for (const advice of [shortSet, newLoad, twoOnly]) {
      expect(advice.some((a) => a.kind === 'PROGRESSIVE_OVERLOAD')).toBe(false);
    }
  });

  it('should step 5 kg for legs, 2.5 kg for the upper body and 1 kg for light loads', () => {
    expect(loadIncrement('LEGS', 100)).toBe(5);
    expect(loadIncrement('CHEST', 60)).toBe(2.5);
    expect(loadIncrement('SHOULDERS', 12)).toBe(1);
  });

  it('should suggest, with `exercise` set, exercises the user does not do that people who do theirs do', async () => {
    // Six lifters pair the bench with the incline press; half of them squat too.
    const others = ['b', 'c', 'd', 'e', 'f', 'g'].flatMap((u, i) => [
      logged(u, daysAgo(2, now), [
        ...sets('barbell-bench-press', 60, 8),
        ...sets('incline-dumbbell-press', 24, 10),
      ]),
      ...(i % 2 ? [logged(u, daysAgo(1, now), sets('barbell-back-squat', 100, 5))] : []),
    ]);
    const advice = await adviceFor('ann', [...others, bench(1, 60, 8, 8)]);
    const tries = advice.filter((a) => a.kind === 'TRY_EXERCISE');
    expect(tries[0]).toMatchObject({
      id: 'TRY_EXERCISE:incline-dumbbell-press',
      title: 'Try Incline dumbbell press',
      exercise: { id: 'incline-dumbbell-press' },
      reason: '86% of the people who do Barbell bench press, as you do, also do Incline dumbbell press.',
    });
    for (const t of tries) expect(t.exercise!.id).not.toBe('barbell-bench-press');
  });

  it('should fall back to same-muscle-group popularity when nothing is similar', async () => {
    const store = new MemoryFeatureStore();
    for (const u of ['b', 'c']) await store.apply(logged(u, daysAgo(1, now), sets('push-up', null, 20)), now);
    await store.apply(logged('d', daysAgo(1, now), sets('barbell-back-squat', 100, 5)), now);
    await store.apply(logged('ann', daysAgo(1, now), sets('incline-dumbbell-press', 20, 10)), now);
    const suggestions = suggestExercises(await store.exercisesOf('ann'), await store.model(), 3);
    expect(suggestions).toEqual([
      { exerciseId: 'push-up', score: 2, source: 'popular', muscleGroup: 'CHEST' },
    ]);
  });

  it('should give the muscle-group advice of the rules from the features', async () => {
    const advice = await adviceFor('ann', [
      logged('ann', daysAgo(9, now), sets('barbell-bench-press', 60, 8, 8, 8)),
      logged(
        'ann',
        new Date(now.getTime() - 6 * 3_600_000),
        sets('barbell-back-squat', 100, ...Array(18).fill(5)),
      ),
    ]);
    const ids = advice.map((a) => a.id);
    expect(ids).toContain('TRAIN_MUSCLE_GROUP:CHEST');
    expect(ids).toContain('RECOVERY:LEGS');
    expect(advice.find((a) => a.id === 'TRAIN_MUSCLE_GROUP:CHEST')!.reason).toBe('Last trained 9 days ago.');
  });
});
