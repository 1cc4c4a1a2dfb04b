import { Writable } from 'node:stream';

/**
 * A stream to give a logger (createLogger's `destination`, or pino's), and the JSON
 * lines written to it so far, parsed: for tests that assert what a service logs.
 */
export function logLines(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { stream, lines };
}
