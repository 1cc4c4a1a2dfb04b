import { describe, expect, it } from 'vitest';
import type { RecentTrainingInput } from '../src/datasources/models.js';
import {
  MAJOR_MUSCLE_GROUPS,
  recommend,
  recoveryScore,
  STALE_AFTER_DAYS,
  staleScore,
  toSnapshot,
} from '../src/engine/rules.js';
import { balanced, NOW, training } from './fixtures.js';

const run = (input: RecentTrainingInput, now = NOW) => recommend(toSnapshot(input), now);
const DAY_HOURS = 24;

describe('rule engine', () => {
  it('should welcome a user with no training with a single full-body start', () => {
    const recs = run(training({}));
    expect(recs).toEqual([
      {
        id: 'TRAIN_MUSCLE_GROUP:FULL_BODY',
        kind: 'TRAIN_MUSCLE_GROUP',
        title: 'Start with a full-body workout',
        reason: expect.stringContaining('No training logged in the last 28 days'),
        score: 1,
        exercise: null,
        generatedAt: NOW,
      },
    ]);
  });

  it('should advise nothing when every major group was trained recently and lightly', () => {
    expect(run(balanced())).toEqual([]);
  });

  it('should advise training a major group not trained for 5 days or more, citing the days', () => {
    const recs = run(
      training({
        ...Object.fromEntries(MAJOR_MUSCLE_GROUPS.map((g) => [g, { sets: 5, hoursAgo: 30 }])),
        CHEST: { sets: 6, hoursAgo: 9 * DAY_HOURS + 3 },
        BACK: { sets: 6, hoursAgo: 4 * DAY_HOURS + 23 },
        ARMS: { sets: 6, hoursAgo: STALE_AFTER_DAYS * DAY_HOURS },
      }),
    );
    expect(recs.map((r) => [r.id, r.title, r.reason])).toEqual([
      ['TRAIN_MUSCLE_GROUP:CHEST', 'Train your chest', 'Last trained 9 days ago.'],
      ['TRAIN_MUSCLE_GROUP:ARMS', 'Train your arms', 'Last trained 5 days ago.'],
    ]);
  });

  it('should advise training a major group not trained at all in the window, ranked above any trained one', () => {
    const recs = run(training({ CHEST: { sets: 4, hoursAgo: 27 * DAY_HOURS } }));
    const ids = recs.map((r) => r.id);
    expect(ids).toHaveLength(MAJOR_MUSCLE_GROUPS.length);
    expect(ids.at(-1)).toBe('TRAIN_MUSCLE_GROUP:CHEST');
    const back = recs.find((r) => r.id === 'TRAIN_MUSCLE_GROUP:BACK');
    expect(back?.reason).toBe('Not trained in the last 28 days.');
    expect(back!.score).toBeGreaterThan(recs.at(-1)!.score);
  });

  it('should never advise training FULL_BODY or CARDIO once the user trains something', () => {
    const recs = run(training({ LEGS: { sets: 4, hoursAgo: 30 } }));
    expect(recs.map((r) => r.id)).not.toContain('TRAIN_MUSCLE_GROUP:FULL_BODY');
    expect(recs.map((r) => r.id)).not.toContain('TRAIN_MUSCLE_GROUP:CARDIO');
  });

  it('should raise the score with every day since a group was trained, within 0..1', () => {
    const scores = [5, 6, 9, 14, 21, 28, 60].map(staleScore);
    expect(scores[0]).toBe(0.4);
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1]!);
    expect(scores.at(-1)).toBeLessThanOrEqual(1);
  });

  it('should advise recovery for a group trained heavily less than 24 hours ago', () => {
    const input = balanced();
    const legs = input.muscleGroups.find((g) => g.muscleGroup === 'LEGS')!;
    legs.sets = 18;
    legs.lastTrainedAt = new Date(NOW.getTime() - 6 * 3_600_000).toISOString();
    expect(run(input)).toEqual([
      {
        id: 'RECOVERY:LEGS',
        kind: 'RECOVERY',
        title: 'Let your legs recover',
        reason:
          '18 sets in the last 28 days, the last 6 hours ago. Give it at least a day before training it again.',
        score: recoveryScore(18),
        exercise: null,
        generatedAt: NOW,
      },
    ]);
    expect(recoveryScore(18)).toBe(0.76);
  });

  it('should not advise recovery below 15 sets, after 24 hours, or for cardio', () => {
    const recs = run(
      training({
        ...Object.fromEntries(MAJOR_MUSCLE_GROUPS.map((g) => [g, { sets: 5, hoursAgo: 30 }])),
        LEGS: { sets: 14, hoursAgo: 2 },
        CHEST: { sets: 20, hoursAgo: 24 },
        CARDIO: { sets: 40, hoursAgo: 1 },
      }),
    );
    expect(recs).toEqual([]);
  });

  it('should say "less than an hour ago" and cap the recovery score at 1', () => {
    const recs = run(training({ FULL_BODY: { sets: 60, hoursAgo: 0.5 } }));
    const recovery = recs.find((r) => r.kind === 'RECOVERY');
    expect(recovery?.id).toBe('RECOVERY:FULL_BODY');
    expect(recovery?.reason).toContain('the last less than an hour ago');
    expect(recovery?.score).toBe(1);
  });

  it('should order advice best first, ties by id, with unique ids and scores in 0..1', () => {
    const recs = run(
      training({
        LEGS: { sets: 30, hoursAgo: 3 },
        CHEST: { sets: 6, hoursAgo: 12 * DAY_HOURS },
        BACK: { sets: 6, hoursAgo: 6 * DAY_HOURS },
      }),
    );
    expect(recs[0]?.id).toBe('RECOVERY:LEGS');
    for (let i = 1; i < recs.length; i++) {
      const [a, b] = [recs[i - 1]!, recs[i]!];
      expect(a.score > b.score || (a.score === b.score && a.id < b.id)).toBe(true);
    }
    expect(new Set(recs.map((r) => r.id)).size).toBe(recs.length);
    expect(recs.every((r) => r.score >= 0 && r.score <= 1 && r.exercise === null)).toBe(true);
  });

  it('should not yet produce PROGRESSIVE_OVERLOAD or TRY_EXERCISE', () => {
    const recs = run(training({ LEGS: { sets: 30, hoursAgo: 3 }, CHEST: { sets: 6, hoursAgo: 300 } }));
    expect(recs.map((r) => r.kind).filter((k) => k !== 'TRAIN_MUSCLE_GROUP' && k !== 'RECOVERY')).toEqual([]);
  });

  it('should be deterministic given now, whatever order the groups arrive in', () => {
    const input = training({ LEGS: { sets: 20, hoursAgo: 3 }, CHEST: { sets: 6, hoursAgo: 200 } });
    const reversed = { ...input, muscleGroups: [...input.muscleGroups].reverse() };
    expect(run(reversed)).toEqual(run(input));
    expect(toSnapshot(reversed)).toEqual(toSnapshot(input));
  });

  it('should read a missing major group as untrained in the window', () => {
    const input = balanced();
    const withoutCore = {
      ...input,
      muscleGroups: input.muscleGroups.filter((g) => g.muscleGroup !== 'CORE'),
    };
    expect(run(withoutCore).map((r) => r.id)).toEqual(['TRAIN_MUSCLE_GROUP:CORE']);
  });

  it('should treat a last-trained time in the future (clock skew) as just now', () => {
    const input = balanced();
    input.muscleGroups.find((g) => g.muscleGroup === 'BACK')!.lastTrainedAt = new Date(
      NOW.getTime() + 3_600_000,
    ).toISOString();
    expect(run(input)).toEqual([]);
  });

  it('should accept offsets other than Z and Date values', () => {
    const snapshot = toSnapshot({
      since: new Date('2026-10-29T12:00:00.000Z'),
      muscleGroups: [{ muscleGroup: 'CHEST', sets: 3, lastTrainedAt: '2026-11-20T13:00:00+01:00' }],
    });
    expect(snapshot.groups[0]?.lastTrainedAt?.toISOString()).toBe('2026-11-20T12:00:00.000Z');
  });

  it('should refuse a malformed date-time instead of guessing', () => {
    expect(() =>
      toSnapshot({ since: 'yesterday', muscleGroups: [] as RecentTrainingInput['muscleGroups'] }),
    ).toThrow(/since is not a date-time/);
  });
});
