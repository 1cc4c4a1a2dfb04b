import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import { PaymentsDataSource } from './datasources/PaymentsDataSource.js';
import type { PaymentsStore } from './datasources/PaymentsStore.js';

export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { payments: PaymentsDataSource };
}

export function createContext(viewer: Viewer, store: PaymentsStore, logger: Logger): Context {
  return { viewer, logger, dataSources: { payments: new PaymentsDataSource(store) } };
}
