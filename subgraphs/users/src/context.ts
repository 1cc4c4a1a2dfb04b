import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import { type AccountSettings, UsersDataSource } from './datasources/UsersDataSource.js';
import type { UsersStore } from './datasources/UsersStore.js';

export interface Context {
  viewer: Viewer;
  logger: Logger;
  dataSources: { users: UsersDataSource };
}

export function createContext(
  viewer: Viewer,
  store: UsersStore,
  accounts: AccountSettings,
  logger: Logger,
): Context {
  return { viewer, logger, dataSources: { users: new UsersDataSource(store, accounts, logger) } };
}
