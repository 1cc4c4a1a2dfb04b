import { describe, expect, it } from 'vitest';
import { bucketStart, bucketStarts, countBuckets, coveringRange } from '../src/buckets.js';
import { intervalDays, loadConfig } from '../src/config.js';

const at = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('stats buckets', () => {
  it('should start a week on Monday midnight UTC, also for a Sunday just before midnight', () => {
    expect(bucketStart(at('2024-06-09T23:59:59.999Z'), 'WEEK')).toEqual(at('2024-06-03T00:00:00Z'));
    expect(bucketStart(at('2024-06-10T00:00:00.000Z'), 'WEEK')).toEqual(at('2024-06-10T00:00:00Z'));
    // Across a year end: Monday 2024-12-30 starts the week that holds 2025-01-01.
    expect(bucketStart(at('2025-01-01T12:00:00Z'), 'WEEK')).toEqual(at('2024-12-30T00:00:00Z'));
  });

  it('should start days and months in UTC whatever the offset the instant was written in', () => {
    const instant = at('2024-03-01T00:30:00+01:00'); // 2024-02-29T23:30Z
    expect(bucketStart(instant, 'DAY')).toEqual(at('2024-02-29T00:00:00Z'));
    expect(bucketStart(instant, 'MONTH')).toEqual(at('2024-02-01T00:00:00Z'));
  });

  it('should cover [from, to) with whole buckets', () => {
    expect(coveringRange(at('2024-01-31T10:00:00Z'), at('2024-03-01T00:00:00Z'), 'MONTH')).toEqual({
      start: at('2024-01-01T00:00:00Z'),
      end: at('2024-03-01T00:00:00Z'),
    });
    expect(coveringRange(at('2024-01-31T10:00:00Z'), at('2024-03-01T00:00:00.001Z'), 'MONTH').end).toEqual(
      at('2024-04-01T00:00:00Z'),
    );
  });

  it('should list and count calendar months of unequal length', () => {
    const start = at('2023-12-01T00:00:00Z');
    const end = at('2024-04-01T00:00:00Z');
    expect(isos(bucketStarts(start, end, 'MONTH'))).toEqual([
      '2023-12-01T00:00:00.000Z',
      '2024-01-01T00:00:00.000Z',
      '2024-02-01T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
    expect(countBuckets(start, end, 'MONTH')).toBe(4);
    expect(countBuckets(start, end, 'DAY')).toBe(31 + 31 + 29 + 31);
    expect(countBuckets(at('2023-11-27T00:00:00Z'), at('2024-04-01T00:00:00Z'), 'WEEK')).toBe(18);
  });
});

describe('storage policy settings', () => {
  it('should default to compressing sets after 30 days, keeping them, and a 7-day real-time window', () => {
    expect(loadConfig({}).policies).toEqual({
      compressSetsAfter: '30 days',
      setRetention: null,
      statsRealtimeWindow: '7 days',
    });
  });

  it('should read intervals and "none" from the environment', () => {
    const env = { WORKOUTS_COMPRESS_AFTER: '2 Weeks', WORKOUTS_SET_RETENTION: '3 years' };
    expect(loadConfig(env).policies).toMatchObject({ compressSetsAfter: '2 weeks', setRetention: '3 years' });
    expect(loadConfig({ WORKOUTS_SET_RETENTION: 'none' }).policies.setRetention).toBeNull();
    expect(intervalDays('6 months')).toBe(180);
  });
});
