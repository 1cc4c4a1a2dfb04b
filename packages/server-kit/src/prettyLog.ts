import { Writable } from 'node:stream';

/** How log lines are written: JSON (for machines), pretty (for people), or pretty only on a terminal. */
export type LogFormat = 'json' | 'pretty' | 'auto';

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '36' },
  30: { name: 'INFO ', color: '32' },
  40: { name: 'WARN ', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '35' },
};

// Fields every line has, shown in the line's head rather than among its details.
const HEAD = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

function detail(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/**
 * One pino JSON record as one readable line: `12:04:01 WARN  workouts  message key=value`.
 * An error shows its message; its stack only at ERROR and above, where it is needed.
 * A line that is not a JSON record is returned unchanged.
 */
export function formatLogLine(line: string, options: { color: boolean }): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof record !== 'object' || record === null || typeof record.level !== 'number') return line;
  const paint = (code: string, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const level = LEVELS[record.level] ?? { name: String(record.level).padEnd(5), color: '0' };
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const parts = [paint('90', time), paint(level.color, level.name)];
  if (typeof record.service === 'string') parts.push(paint('1', record.service.padEnd(15)));
  parts.push(String(record.msg ?? ''));
  let stack = '';
  for (const [key, value] of Object.entries(record)) {
    if (HEAD.has(key) || value === undefined) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { message?: string; stack?: string };
      parts.push(paint('90', `err=${detail(err.message ?? '')}`));
      if (record.level >= 50 && err.stack) stack = `\n${paint('90', err.stack)}`;
      continue;
    }
    parts.push(paint('90', `${key}=${detail(value)}`));
  }
  return parts.join(' ') + stack;
}

/** Whether a format setting means pretty lines on this stream. */
export function wantsPretty(format: LogFormat, stream: { isTTY?: boolean } = process.stdout): boolean {
  return format === 'pretty' || (format === 'auto' && stream.isTTY === true);
}

/** A stream pino writes JSON lines to, that writes them readable to stdout. */
export function prettyStream(options: { color: boolean }): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) process.stdout.write(`${formatLogLine(line, options)}\n`);
      done();
    },
  });
}
