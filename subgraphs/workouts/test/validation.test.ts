import { describe, expect, it } from 'vitest';
import type { LogWorkoutInput } from '../src/__generated__/resolvers-types.js';
import { decodeCursor, encodeCursor } from '../src/datasources/cursor.js';
import { pageSize, parseWorkoutId, validateLogWorkout, volumeOf } from '../src/validation.js';

const now = new Date('2026-11-26T12:00:00.000Z');
const valid: LogWorkoutInput = {
  id: '0B8E4F1C-8D5A-4C3B-9F2E-1A2B3C4D5E6F',
  sport: 'STRENGTH',
  title: 'Leg day',
  startedAt: '2026-11-26T10:00:00+02:00',
  durationSec: 3600,
  sets: [{ exerciseId: 'barbell-back-squat', reps: 5, weightKg: 100 }],
};

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return { code: (error as { extensions?: { code?: string } }).extensions?.code, message: String(error) };
  }
  return undefined;
};

describe('validateLogWorkout', () => {
  it('should normalize a valid input', () => {
    const w = validateLogWorkout(valid, 'u1', now);
    expect(w.id).toBe('0b8e4f1c-8d5a-4c3b-9f2e-1a2b3c4d5e6f');
    expect(w.startedAt.toISOString()).toBe('2026-11-26T08:00:00.000Z');
    expect(w.sets[0]).toEqual({
      exerciseId: 'barbell-back-squat',
      reps: 5,
      weightKg: 100,
      durationSec: null,
      distanceM: null,
    });
    expect(w.distanceM).toBeNull();
  });

  it('should accept a start up to 5 minutes in the future and exactly 2000-01-01', () => {
    expect(() =>
      validateLogWorkout({ ...valid, startedAt: '2026-11-26T12:04:59Z' }, 'u1', now),
    ).not.toThrow();
    expect(() =>
      validateLogWorkout({ ...valid, startedAt: '2000-01-01T00:00:00Z' }, 'u1', now),
    ).not.toThrow();
  });

  const bad: [string, Partial<LogWorkoutInput>, RegExp][] = [
    ['a non-UUID id', { id: 'not-a-uuid' }, /UUID/],
    ['durationSec 0', { durationSec: 0 }, /durationSec/],
    ['durationSec over a day', { durationSec: 86_401 }, /durationSec/],
    ['a fractional durationSec', { durationSec: 1.5 }, /durationSec/],
    ['an unparseable startedAt', { startedAt: 'yesterday' }, /startedAt/],
    ['a startedAt without offset', { startedAt: '2026-11-26T10:00:00' }, /startedAt/],
    ['an impossible date', { startedAt: '2026-02-31T10:00:00Z' }, /startedAt/],
    ['a start 6 minutes ahead', { startedAt: '2026-11-26T12:06:00Z' }, /future/],
    ['a start before 2000', { startedAt: '1999-12-31T23:59:59Z' }, /2000-01-01/],
    ['201 sets', { sets: Array.from({ length: 201 }, () => ({ exerciseId: 'plank' })) }, /200 sets/],
    ['negative reps', { sets: [{ exerciseId: 'plank', reps: -1 }] }, /sets\[0\]\.reps/],
    ['1001 reps', { sets: [{ exerciseId: 'plank', reps: 1001 }] }, /reps/],
    ['weight over 1000', { sets: [{ exerciseId: 'plank', weightKg: 1000.5 }] }, /weightKg/],
    ['a negative weight', { sets: [{ exerciseId: 'plank', weightKg: -5 }] }, /weightKg/],
    ['a set over a day', { sets: [{ exerciseId: 'plank', durationSec: 86_401 }] }, /durationSec/],
    ['a negative set distance', { sets: [{ exerciseId: 'plank', distanceM: -1 }] }, /distanceM/],
    ['an empty exercise id', { sets: [{ exerciseId: ' ' }] }, /exerciseId/],
    ['a negative distance', { distanceM: -0.1 }, /distanceM/],
    ['an infinite distance', { distanceM: Number.POSITIVE_INFINITY }, /distanceM/],
    ['NaN calories', { calories: Number.NaN }, /calories/],
    ['negative calories', { calories: -10 }, /calories/],
    ['a 101-character title', { title: 'x'.repeat(101) }, /title/],
  ];
  it.each(bad)('should refuse %s with BAD_USER_INPUT', (_, patch, message) => {
    const error = codeOf(() => validateLogWorkout({ ...valid, ...patch }, 'u1', now));
    expect(error?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).toMatch(message);
  });
});

describe('pageSize', () => {
  it('should default to 20, cap at 100 and refuse less than 1', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(1)).toBe(1);
    expect(pageSize(100)).toBe(100);
    expect(pageSize(1000)).toBe(100);
    expect(codeOf(() => pageSize(0))?.code).toBe('BAD_USER_INPUT');
    expect(codeOf(() => pageSize(-3))?.code).toBe('BAD_USER_INPUT');
  });
});

describe('parseWorkoutId and volumeOf', () => {
  it('should refuse a non-UUID id and sum reps x weight, ignoring incomplete sets', () => {
    expect(codeOf(() => parseWorkoutId('123'))?.code).toBe('BAD_USER_INPUT');
    const set = { exerciseId: 'x', durationSec: null, distanceM: null };
    expect(
      volumeOf([
        { ...set, reps: 5, weightKg: 100 },
        { ...set, reps: 10, weightKg: null },
        { ...set, reps: 8, weightKg: 62.5 },
      ]),
    ).toBe(1000);
  });
});

describe('cursors', () => {
  it('should round-trip and refuse anything else', () => {
    const key = {
      startedAt: new Date('2026-01-02T03:04:05.678Z'),
      id: '0b8e4f1c-8d5a-4c3b-9f2e-1a2b3c4d5e6f',
    };
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
    for (const bad of ['', 'not a cursor', 'e30', Buffer.from('["x","y"]').toString('base64url')]) {
      expect(codeOf(() => decodeCursor(bad))?.code).toBe('BAD_USER_INPUT');
    }
  });
});
