import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import { WorkoutsDataSource } from './datasources/WorkoutsDataSource.js';
import type { WorkoutsStore } from './datasources/WorkoutsStore.js';
import type { LiveBoards } from './leaderboards/live.js';

export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { workouts: WorkoutsDataSource; leaderboards: LiveBoards | undefined };
}

/** `leaderboards` is absent only where a test builds a context without them. */
export function createContext(
  viewer: Viewer,
  store: WorkoutsStore,
  logger: Logger,
  leaderboards?: LiveBoards,
): Context {
  return { viewer, logger, dataSources: { workouts: new WorkoutsDataSource(store), leaderboards } };
}
