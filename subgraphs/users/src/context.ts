import type { IncomingHttpHeaders } from 'node:http';
import type { Viewer } from '@fitness/auth';
import type { Logger } from '@fitness/server-kit';
import { type AccountSettings, UsersDataSource } from './datasources/UsersDataSource.js';
import type { UsersStore } from './datasources/UsersStore.js';

/** What every resolver receives; built once per request. */
export interface Context {
  viewer: Viewer;
  /**
   * The caller's address from the router's `x-client-address` header, which counts
   * sign-in failures and sign-ups per address. Trusted because the router overwrites
   * the header and serve() refuses every request without the router secret first.
   */
  clientAddress: string | null;
  logger: Logger;
  dataSources: { users: UsersDataSource };
}

/** A fresh context, with a fresh data source and so fresh loaders, for one request. */
export function createContext(
  viewer: Viewer,
  store: UsersStore,
  accounts: AccountSettings,
  logger: Logger,
  request: { clientAddress?: string | null } = {},
): Context {
  const clientAddress = request.clientAddress ?? null;
  return {
    viewer,
    clientAddress,
    logger,
    dataSources: { users: new UsersDataSource(store, accounts, logger, clientAddress) },
  };
}

/** The router-set `x-client-address` header; one value only, else unknown. */
export function clientAddressOf(headers: IncomingHttpHeaders): string | null {
  const value = headers['x-client-address'];
  return typeof value === 'string' && value.length > 0 && value.length <= 64 ? value : null;
}
