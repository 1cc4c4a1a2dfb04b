import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import { WorkoutsDataSource } from './datasources/WorkoutsDataSource.js';
import type { WorkoutsStore } from './datasources/WorkoutsStore.js';

export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { workouts: WorkoutsDataSource };
}

export function createContext(viewer: Viewer, store: WorkoutsStore, logger: Logger): Context {
  return { viewer, logger, dataSources: { workouts: new WorkoutsDataSource(store) } };
}
