import { Gauge, Registry } from 'prom-client';
import type { LiveBoards } from './live.js';

/**
 * Live subscription counts, for operators and for tests that check the router
 * really completes its upstream subscriptions.
 */
export function leaderboardMetrics(live: Pick<LiveBoards, 'stats'>): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'workouts_leaderboard_subscriptions',
    help: 'Active leaderboardUpdated subscriptions.',
    registers: [registry],
    collect() {
      this.set(live.stats().subscribers);
    },
  });
  new Gauge({
    name: 'workouts_leaderboard_live_boards',
    help: 'Boards with subscribers.',
    registers: [registry],
    collect() {
      this.set(live.stats().groups);
    },
  });
  return registry;
}
