import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRouterMetrics } from '../src/metrics.js';
import type { EngineStats } from '../src/subscriptions/engine.js';

describe('subscription activity log', () => {
  it('should stay quiet while nothing is subscribed, and write one line when the last subscription goes', async () => {
    const lines: string[] = [];
    const logger = pino(
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const stats: EngineStats = {
      subscriptions: 0,
      groups: 0,
      upstreams: 0,
      upstreamConnections: 0,
      eventsReceived: 0,
      executions: 0,
      messagesDelivered: 0,
    };
    // A copy per call, as the engine gives.
    const stop = createRouterMetrics(() => ({ ...stats })).startActivityLog(logger, 20);
    const wait = () => new Promise((r) => setTimeout(r, 90));
    try {
      await wait();
      expect(lines).toEqual([]);
      stats.subscriptions = 2;
      await wait();
      expect(lines.length).toBeGreaterThan(0);
      stats.subscriptions = 0;
      await wait();
      const count = lines.length;
      await wait();
      expect(lines.length).toBe(count);
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ msg: 'subscription activity', subscriptions: 0 });
    } finally {
      stop();
    }
  });
});
