import { assertSingleResult, errorCodes } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/context.js';
import type { WorkoutsStore } from '../../src/datasources/WorkoutsStore.js';
import { LiveBoards } from '../../src/leaderboards/live.js';
import { MemoryLeaderboardStore } from '../../src/leaderboards/MemoryLeaderboardStore.js';
import { MemoryBoardNotices } from '../../src/leaderboards/notices.js';
import { createWorkoutsServer } from '../../src/server.js';
import { change, logger } from './helpers.js';

const QUERY = `query ($board: LeaderboardInput!) {
  leaderboard(board: $board) {
    metric period region periodStart updatedAt
    entries { rank score user { id } }
  }
}`;

describe('Query.leaderboard', () => {
  const server = createWorkoutsServer(logger);
  const store = new MemoryLeaderboardStore();
  const live = new LiveBoards({ store, notices: new MemoryBoardNotices(), logger });

  beforeAll(async () => {
    await server.start();
    await store.apply(change({ userId: 'ann', region: 'EU', distanceM: 5000.5 }));
    await store.apply(change({ userId: 'bob', region: 'US', distanceM: 12_000 }));
    await store.apply(change({ userId: 'cid', region: 'US', distanceM: 12_000 }));
  });

  afterAll(async () => {
    await server.stop();
    await live.stop();
  });

  const run = async (board: Record<string, unknown>, userId: string | null = null) =>
    assertSingleResult(
      (
        await server.executeOperation(
          { query: QUERY, variables: { board } },
          { contextValue: createContext({ userId, region: null }, {} as WorkoutsStore, logger, live) },
        )
      ).body,
    );

  it('should answer anyone with the top of the current period, ties by user id, users as references', async () => {
    const result = await run({ metric: 'DISTANCE_M', period: 'MONTH' });
    expect(result.errors).toBeUndefined();
    const board = result.data?.leaderboard as Record<string, unknown>;
    expect(board).toMatchObject({ metric: 'DISTANCE_M', period: 'MONTH', region: null });
    expect(new Date(board.periodStart as string).getUTCDate()).toBe(1);
    expect(Date.parse(board.updatedAt as string)).not.toBeNaN();
    expect(board.entries).toEqual([
      { rank: 1, score: 12_000, user: { id: 'bob' } },
      { rank: 2, score: 12_000, user: { id: 'cid' } },
      { rank: 3, score: 5000.5, user: { id: 'ann' } },
    ]);
  });

  it('should filter by region, cut at first, and give ALL_TIME no period start', async () => {
    const result = await run({ metric: 'WORKOUTS', period: 'ALL_TIME', region: 'US', first: 1 }, 'ann');
    expect(result.data?.leaderboard).toMatchObject({
      region: 'US',
      periodStart: null,
      entries: [{ rank: 1, score: 1, user: { id: 'bob' } }],
    });
  });

  it('should return an empty board that nothing has touched', async () => {
    const result = await run({ metric: 'VOLUME_KG', period: 'DAY', region: 'APAC' });
    expect(result.data?.leaderboard).toMatchObject({ entries: [] });
  });

  it('should refuse first outside 1..100 with BAD_USER_INPUT', async () => {
    for (const first of [0, 101]) {
      const result = await run({ metric: 'WORKOUTS', period: 'DAY', first });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('should publish the leaderboard types in the subgraph SDL', async () => {
    const sdl = assertSingleResult<{ _service: { sdl: string } }>(
      (await server.executeOperation({ query: '{ _service { sdl } }' })).body,
    );
    const text = sdl.data?._service.sdl;
    expect(text).toContain('leaderboardUpdated(board: LeaderboardInput!): Leaderboard!');
    expect(text).toContain('leaderboard(board: LeaderboardInput!): Leaderboard');
  });
});
