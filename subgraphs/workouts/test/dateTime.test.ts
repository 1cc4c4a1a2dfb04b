import { randomUUID } from 'node:crypto';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import type { WorkoutsStore } from '../src/datasources/WorkoutsStore.js';
import { createWorkoutsServer } from '../src/server.js';

const logger = createLogger('workouts-datetime-test', 'silent');

/** A store that fails the test if anything reaches it: a refused DateTime never does. */
const untouchable = new Proxy({} as WorkoutsStore, {
  get(_, prop) {
    throw new Error(`the store was reached (${String(prop)}) with an invalid DateTime`);
  },
});

const workout = (startedAt: unknown) => ({
  id: randomUUID(),
  sport: 'RUN',
  startedAt,
  durationSec: 1800,
});

describe('DateTime input in workouts', () => {
  const server = createWorkoutsServer(logger);
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  const run = async (query: string, variables: Record<string, unknown> = {}) =>
    assertSingleResult(
      (
        await server.executeOperation(
          { query, variables },
          { contextValue: createContext({ userId: 'u-datetime', region: 'EU' }, untouchable, logger) },
        )
      ).body,
    );

  it.each([
    ['a word', 'yesterday'],
    ['an empty string', ''],
    ['a number', 1_764_136_800_000],
    ['an object', { at: '2026-11-26T06:00:00Z' }],
  ])('should refuse %s as startedAt with BAD_USER_INPUT before any resolver runs', async (_, startedAt) => {
    const result = await run('mutation ($input: LogWorkoutInput!) { logWorkout(input: $input) { id } }', {
      input: workout(startedAt),
    });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.message).toContain('DateTime must be an ISO-8601 date-time string');
  });

  it('should refuse a bad `from` of stats with BAD_USER_INPUT', async () => {
    const result = await run(
      `query ($reps: [_Any!]!, $from: DateTime!) { _entities(representations: $reps) {
        ... on User { stats(bucket: DAY, from: $from, to: "2026-11-26T00:00:00Z") { start } }
      } }`,
      { reps: [{ __typename: 'User', id: 'u-datetime' }], from: 'last week' },
    );
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('should refuse a bad DateTime literal in the operation with BAD_USER_INPUT', async () => {
    const result = await run(
      `mutation { logWorkout(input: {
        id: "${randomUUID()}", sport: RUN, startedAt: "soon", durationSec: 1800
      }) { id } }`,
    );
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
  });
});
