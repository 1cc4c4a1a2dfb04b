import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger } from '@fitness/server-kit';
import { createEnvelope, type Envelope } from '../src/index.js';

export const silent = createLogger('events-test', process.env.LOG_LEVEL ?? 'silent');

/** A namespace no other run uses, so suites share one NATS server. */
export const uniqueNamespace = (label: string) => `t${label}${randomBytes(4).toString('hex')}`;

/** Resolves when `check` holds; fails (rather than hangs) after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A valid workouts.logged event; `calories` varies so sums check content. */
export function workoutLogged(calories = 100, userId = 'u1'): Envelope {
  return createEnvelope(
    'workouts.logged',
    1,
    {
      workoutId: randomUUID(),
      userId,
      region: null,
      startedAt: '2025-01-01T10:00:00.000Z',
      sport: 'running',
      durationSec: 1800,
      volumeKg: 0,
      distanceM: 5000,
      calories,
    },
    { producer: 'workouts' },
  );
}

export function userRegistered(userId = 'u1'): Envelope {
  return createEnvelope(
    'users.registered',
    1,
    { userId, handle: `h${userId}`, region: 'eu', occurredAt: new Date().toISOString() },
    { producer: 'users' },
  );
}
