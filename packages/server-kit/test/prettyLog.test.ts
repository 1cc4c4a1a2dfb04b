import { describe, expect, it } from 'vitest';
import { formatLogLine, wantsPretty } from '../src/prettyLog.js';

const record = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 30,
    time: '2026-12-01T10:11:12.345Z',
    service: 'workouts',
    msg: 'listening',
    ...fields,
  });

describe('formatLogLine', () => {
  it('should print a record as one readable line: time, level, service, message, details', () => {
    expect(
      formatLogLine(record({ port: 4002, url: 'http://127.0.0.1:4002/graphql' }), { color: false }),
    ).toBe('10:11:12 INFO  workouts        listening port=4002 url=http://127.0.0.1:4002/graphql');
  });

  it('should show an error by its message, and its stack only at ERROR and above', () => {
    const err = {
      type: 'Error',
      message: 'connect ECONNREFUSED',
      stack: 'Error: connect ECONNREFUSED\n    at x',
    };
    const warn = formatLogLine(record({ level: 40, msg: 'retrying', err }), { color: false });
    expect(warn).toBe('10:11:12 WARN  workouts        retrying err="connect ECONNREFUSED"');
    const error = formatLogLine(record({ level: 50, msg: 'failed', err }), { color: false });
    expect(error.split('\n')).toEqual([
      '10:11:12 ERROR workouts        failed err="connect ECONNREFUSED"',
      'Error: connect ECONNREFUSED',
      '    at x',
    ]);
  });

  it('should colour only when asked, and pass anything that is not a record through', () => {
    expect(formatLogLine(record({}), { color: true })).toContain('\u001b[32mINFO');
    expect(formatLogLine(record({}), { color: false })).not.toContain('\u001b[');
    expect(formatLogLine('Gateway successfully loaded schema.', { color: true })).toBe(
      'Gateway successfully loaded schema.',
    );
    expect(formatLogLine('[1,2]', { color: false })).toBe('[1,2]');
  });

  it('should be pretty on a terminal in auto mode, and as told otherwise', () => {
    expect(wantsPretty('auto', { isTTY: true })).toBe(true);
    expect(wantsPretty('auto', { isTTY: false })).toBe(false);
    expect(wantsPretty('json', { isTTY: true })).toBe(false);
    expect(wantsPretty('pretty', { isTTY: false })).toBe(true);
  });
});
