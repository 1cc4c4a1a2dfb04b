import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import type { PaymentProvider } from './datasources/PaymentProvider.js';
import { PaymentsDataSource } from './datasources/PaymentsDataSource.js';
import type { PaymentsStore } from './datasources/PaymentsStore.js';

export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { payments: PaymentsDataSource };
}

export interface PaymentsDeps {
  store: PaymentsStore;
  provider: PaymentProvider;
  logger: Logger;
}

export function createContext(viewer: Viewer, deps: PaymentsDeps): Context {
  return {
    viewer,
    logger: deps.logger,
    dataSources: { payments: new PaymentsDataSource(deps.store, deps.provider) },
  };
}
