import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { openStores } from '../src/stores.js';

describe('openStores', () => {
  it('should fall back to the in-process store, loudly, when no mongod can be had in time', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const started = Date.now();
    // No MONGODB_URL, and far too little time to download or start a mongod.
    const stores = await openStores({ mongodbUrl: undefined, embeddedTimeoutMs: 50 }, logger);
    try {
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(stores.kind).toBe('memory');
      expect(stores.store).toBeInstanceOf(MemoryUsersStore);
      expect(await stores.ready()).toBe(true);
      const warning = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).at(-1);
      expect(warning?.level).toBe(40);
      expect(warning?.msg).toContain('IN-PROCESS users store');
      // One line, without a stack trace, whatever the embedded server library did.
      expect(lines.filter((l) => l.includes('users store'))).toHaveLength(1);
      expect(lines.join('')).not.toContain('"stack"');
    } finally {
      await stores.close();
    }
  });
});
