import { randomBytes } from 'node:crypto';
import { realService } from '@fitness/testing';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { MongoUsersStore } from '../src/datasources/MongoUsersStore.js';
import type { NewUser } from '../src/datasources/models.js';
import type { UsersStore } from '../src/datasources/UsersStore.js';
import { connectMongo } from '../src/stores.js';

export interface OpenedStore {
  store: UsersStore;
  close(): Promise<void>;
}

export interface StoreAdapter {
  name: string;
  open(): Promise<OpenedStore>;
}

/**
 * The adapters a suite runs against: the in-process store always, MongoDB when
 * MONGODB_URL is set (each suite in a database of its own, dropped afterwards).
 * Without it `realService` prints the loud "skipped" line.
 */
export function storeAdapters(suite: string): StoreAdapter[] {
  const adapters: StoreAdapter[] = [
    { name: 'memory', open: async () => ({ store: new MemoryUsersStore(), close: async () => {} }) },
  ];
  const url = realService('mongodb', suite);
  if (url) {
    adapters.push({
      name: 'mongodb',
      async open() {
        const connection = await connectMongo(url, {
          dbName: `users_test_${randomBytes(6).toString('hex')}`,
        });
        const store = await MongoUsersStore.open(connection);
        return {
          store,
          async close() {
            await connection.dropDatabase();
            await connection.close();
          },
        };
      },
    });
  }
  return adapters;
}

/** A handle (and email) no other test of the run uses. */
export function uniqueHandle(prefix = 'u'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A valid new account no other test of the run uses. */
export function newUser(overrides: Partial<NewUser> = {}): NewUser {
  const handle = uniqueHandle();
  return {
    email: `${handle}@example.com`,
    handle,
    displayName: 'Test User',
    region: 'EU',
    passwordHash: 'scrypt$not-a-real-hash',
    ...overrides,
  };
}
