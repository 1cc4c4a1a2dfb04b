import { randomBytes } from 'node:crypto';
import { createTokenIssuer, DEVELOPMENT_JWT_SECRET } from '@fitness/auth';
import { type EventBus, MongoOutboxRelay } from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { realService } from '@fitness/testing';
import type { mongo } from 'mongoose';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { MongoUsersStore, TOMBSTONE } from '../src/datasources/MongoUsersStore.js';
import type { NewUser } from '../src/datasources/models.js';
import type { RateLimiter } from '../src/datasources/RateLimiter.js';
import type { AccountSettings } from '../src/datasources/UsersDataSource.js';
import type { UsersStore } from '../src/datasources/UsersStore.js';
import { MemoryOutbox } from '../src/events.js';
import { SignInThrottle } from '../src/signInThrottle.js';
import { SignUpThrottle } from '../src/signUpThrottle.js';
import { connectMongo } from '../src/stores.js';

const logger = createLogger('users-adapters-test', 'silent');

export interface OpenedStore {
  store: UsersStore;
  /** MongoDB: the users collection as stored, fields the store never selects included. */
  documents?: mongo.Collection;
  close(): Promise<void>;
}

export interface StoreAdapter {
  name: string;
  /** With `bus`: the store's events are published there as in production (relay stopped by close). */
  open(options?: { bus?: EventBus }): Promise<OpenedStore>;
}

/**
 * The adapters a suite runs against: the in-process store always, MongoDB when
 * MONGODB_URL is set (each suite in a database of its own, dropped afterwards).
 * Without it `realService` prints the loud "skipped" line.
 */
export function storeAdapters(suite: string): StoreAdapter[] {
  const adapters: StoreAdapter[] = [
    {
      name: 'memory',
      async open({ bus } = {}) {
        const outbox = bus ? new MemoryOutbox() : undefined;
        const publisher = bus ? outbox?.start(bus, logger) : undefined;
        return { store: new MemoryUsersStore(outbox), close: async () => publisher?.stop() };
      },
    },
  ];
  const url = realService('mongodb', suite);
  if (url) {
    adapters.push({
      name: 'mongodb',
      async open({ bus } = {}) {
        const connection = await connectMongo(url, {
          dbName: `users_test_${randomBytes(6).toString('hex')}`,
        });
        const store = await MongoUsersStore.open(connection);
        const relay = bus
          ? new MongoOutboxRelay({
              collection: store.outbox,
              bus,
              logger,
              pollIntervalMs: 20,
              removeWhenPublished: TOMBSTONE,
            })
          : undefined;
        relay?.start();
        return {
          store,
          documents: store.outbox,
          async close() {
            await relay?.stop();
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

/** The development token settings users' tests sign and verify with. */
export const TEST_TOKENS = {
  secret: DEVELOPMENT_JWT_SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
};

/**
 * The account settings of a test server, counting on `limiter`: throttles no test
 * reaches unless `maxFailuresPerAddress` is lowered, tokens of ten minutes.
 */
export function testAccounts(limiter: RateLimiter, { maxFailuresPerAddress = 1_000 } = {}): AccountSettings {
  return {
    issueToken: createTokenIssuer({ ...TEST_TOKENS, ttlSeconds: 600 }),
    defaultRegion: 'EU',
    signInThrottle: new SignInThrottle(limiter, {
      maxFailuresPerAccount: 1_000,
      maxFailuresPerAddress,
      windowSeconds: 900,
    }),
    signUpThrottle: new SignUpThrottle(limiter, { maxPerAddress: 1_000, windowSeconds: 900 }),
  };
}
