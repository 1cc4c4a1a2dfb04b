import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import { type AccountSettings, UsersDataSource } from './datasources/UsersDataSource.js';
import type { UsersStore } from './datasources/UsersStore.js';

/** What every resolver receives; built once per request. */
export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { users: UsersDataSource };
}

/** A fresh context, with a fresh data source and so fresh loaders, for one request. */
export function createContext(
  viewer: Viewer,
  store: UsersStore,
  accounts: AccountSettings,
  logger: Logger,
): Context {
  return { viewer, logger, dataSources: { users: new UsersDataSource(store, accounts, logger) } };
}
