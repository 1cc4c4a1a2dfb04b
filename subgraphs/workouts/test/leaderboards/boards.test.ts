import { describe, expect, it } from 'vitest';
import {
  boardId,
  expiresAt,
  liveBoards,
  PERIOD_GRACE_MS,
  periodEndOf,
  periodStartOf,
  planChange,
  roundHalfEven,
  unitsOf,
} from '../../src/leaderboards/boards.js';
import { parseBoardInput } from '../../src/leaderboards/input.js';
import { parseRebuildArgs } from '../../src/leaderboards/rebuild.js';
import { change } from './helpers.js';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe('period bucketing', () => {
  it('should start weeks on Monday midnight UTC, also across a month and a year', () => {
    // Sunday 2026-11-29 23:59:59.999 belongs to the week of Monday 2026-11-23.
    expect(iso(periodStartOf('WEEK', at('2026-11-29T23:59:59.999Z')))).toBe('2026-11-23T00:00:00.000Z');
    expect(iso(periodStartOf('WEEK', at('2026-11-30T00:00:00.000Z')))).toBe('2026-11-30T00:00:00.000Z');
    // Thursday 2026-01-01: the week began on Monday 2025-12-29.
    expect(iso(periodStartOf('WEEK', at('2026-01-01T12:00:00Z')))).toBe('2025-12-29T00:00:00.000Z');
  });

  it('should use UTC calendar days and months whatever the offset of the input', () => {
    expect(iso(periodStartOf('DAY', at('2026-03-01T00:30:00+02:00')))).toBe('2026-02-28T00:00:00.000Z');
    expect(iso(periodStartOf('MONTH', at('2026-03-01T00:30:00+02:00')))).toBe('2026-02-01T00:00:00.000Z');
    expect(iso(periodEndOf('MONTH', at('2024-02-01T00:00:00Z')))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(periodEndOf('MONTH', at('2026-12-01T00:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(periodStartOf('ALL_TIME', new Date())).toBeNull();
  });

  it('should expire a period board its grace after the period ends, and never an ALL_TIME board', () => {
    const start = at('2026-11-23T00:00:00Z');
    const ref = { metric: 'WORKOUTS', period: 'WEEK', region: null, periodStart: start } as const;
    expect(expiresAt(ref)?.getTime()).toBe(at('2026-11-30T00:00:00Z').getTime() + PERIOD_GRACE_MS);
    expect(expiresAt({ ...ref, period: 'ALL_TIME', periodStart: null })).toBeNull();
  });
});

describe('planChange', () => {
  const now = at('2026-11-26T10:00:00Z');

  it('should touch every metric, period and the all-regions and regional boards', () => {
    const deltas = planChange(change({ startedAt: now, distanceM: 5000 }), now);
    expect(deltas).toHaveLength(5 * 4 * 2);
    expect(deltas.map((d) => d.id)).toContain('VOLUME_KG:WEEK:2026-11-23:EU');
    expect(deltas.map((d) => d.id)).toContain('WORKOUTS:ALL_TIME:-:ALL');
  });

  it('should leave out zero amounts (but count WORKOUTS) and regions it does not know', () => {
    const deltas = planChange(
      change({ startedAt: now, volumeKg: 0, distanceM: 0, calories: 0, region: null }),
      now,
    );
    expect(new Set(deltas.map((d) => d.ref.metric))).toEqual(new Set(['WORKOUTS', 'DURATION_SEC']));
    expect(deltas.every((d) => d.ref.region === null)).toBe(true);
  });

  it('should bucket by startedAt and skip boards already expired, so a late event never resurrects one', () => {
    const old = change({ startedAt: at('2026-10-10T10:00:00Z') });
    const ids = planChange(old, now).map((d) => d.id);
    expect(ids).not.toContain('WORKOUTS:DAY:2026-10-10:ALL');
    expect(ids).toContain('WORKOUTS:ALL_TIME:-:ALL');
    // Yesterday's workout, synced late: still within the day's grace.
    const yesterday = planChange(change({ startedAt: at('2026-11-25T22:00:00Z') }), now).map((d) => d.id);
    expect(yesterday).toContain('WORKOUTS:DAY:2026-11-25:ALL');
  });

  it('should subtract exactly what logging added', () => {
    const c = change({ startedAt: now, volumeKg: 10.1, calories: 0.1 + 0.2 });
    const added = planChange(c, now);
    const removed = planChange({ ...c, kind: 'deleted' }, now);
    expect(removed.map((d) => d.delta)).toEqual(added.map((d) => -d.delta));
    expect(added.every((d) => Number.isInteger(d.delta))).toBe(true);
  });

  it('should name boards stably', () => {
    expect(
      boardId({ metric: 'CALORIES', period: 'DAY', region: 'APAC', periodStart: at('2026-11-26T00:00:00Z') }),
    ).toBe('CALORIES:DAY:2026-11-26:APAC');
  });
});

describe('liveBoards', () => {
  it('should hold every board a workout of any allowed start can count on at that time', () => {
    // Around period boundaries too: a Monday just after midnight, a month's last minutes.
    for (const at of ['2025-03-03T00:02:00Z', '2025-03-31T23:58:00Z', '2025-06-18T12:00:00Z']) {
      const now = new Date(at);
      const live = new Set(liveBoards(now).map(boardId));
      for (let minutes = -60 * 24 * 70; minutes <= 5; minutes += 37) {
        const startedAt = new Date(now.getTime() + minutes * 60_000);
        for (const d of planChange(change({ startedAt, distanceM: 1, region: 'APAC' }), now)) {
          expect(live.has(d.id), `${d.id} at ${at}`).toBe(true);
        }
      }
    }
  });
});

describe('amounts', () => {
  it('should round thousandths half to even, like PostgreSQL round(double precision)', () => {
    expect([0.5, 1.5, 2.5, 2.4, 2.6, 3].map(roundHalfEven)).toEqual([0, 2, 2, 2, 3, 3]);
    expect(unitsOf('WORKOUTS', change())).toBe(1000);
    expect(unitsOf('VOLUME_KG', change({ volumeKg: 102.5 }))).toBe(102_500);
  });
});

describe('inputs', () => {
  it('should accept first from 1 to 100 and refuse anything else with BAD_USER_INPUT', () => {
    const base = { metric: 'WORKOUTS', period: 'DAY' } as const;
    expect(parseBoardInput({ ...base, first: 1 }).first).toBe(1);
    expect(parseBoardInput({ ...base }).first).toBe(10);
    for (const first of [0, 101, -1]) {
      expect(() => parseBoardInput({ ...base, first })).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
      );
    }
  });

  it('should parse rebuild options into boards', () => {
    expect(parseRebuildArgs([])).toHaveLength(80);
    expect(parseRebuildArgs(['--', '--period', 'DAY'])).toHaveLength(20);
    const refs = parseRebuildArgs([
      '--metric',
      'workouts',
      '--period',
      'WEEK',
      '--region',
      'ALL',
      '--at',
      '2026-11-26T00:00:00Z',
    ]);
    expect(refs).toEqual([
      { metric: 'WORKOUTS', period: 'WEEK', region: null, periodStart: at('2026-11-23T00:00:00Z') },
    ]);
    expect(() => parseRebuildArgs(['--period', 'YEAR'])).toThrow(/one of/);
    expect(() => parseRebuildArgs(['--nope', 'x'])).toThrow(/unknown option/);
  });
});
