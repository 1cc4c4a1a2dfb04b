import { createTokenIssuer, DEVELOPMENT_JWT_SECRET } from '@fitness/auth';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, type SingleResult } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { clientAddressOf, createContext } from '../src/context.js';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import type { AccountSettings } from '../src/datasources/UsersDataSource.js';
import { hashPassword } from '../src/passwords.js';
import { createUsersServer } from '../src/server.js';
import { addressKey, SignInThrottle } from '../src/signInThrottle.js';
import { SignUpThrottle } from '../src/signUpThrottle.js';
import { openRateLimiter } from '../src/stores.js';
import { uniqueHandle } from './adapters.js';

const logger = createLogger('users-test', 'silent');
const PASSWORD = 'correct horse battery';
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { token user { id } } }`;
const WINDOW_SECONDS = 900;
const issueToken = createTokenIssuer({
  secret: DEVELOPMENT_JWT_SECRET,
  issuer: 'fitness-users',
  audience: 'fitness-api',
  ttlSeconds: 600,
});
/** signUp is throttled on its own counters: unlimited here, where signIn is tested. */
const unlimitedSignUps = () =>
  new SignUpThrottle(new MemoryRateLimiter(), { maxPerAddress: 1_000, windowSeconds: WINDOW_SECONDS });

describe('signIn throttling', () => {
  const server = createUsersServer(logger);
  const store = new MemoryUsersStore();
  let passwordHash: string;
  let lookups = 0;
  // Counts the store reads of signIn: a throttled attempt must not reach the password check.
  const countingStore = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'findByEmail') {
        return (email: string) => {
          lookups += 1;
          return target.findByEmail(email);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const accounts: AccountSettings = {
    issueToken,
    defaultRegion: 'EU',
    signInThrottle: new SignInThrottle(new MemoryRateLimiter(), {
      maxFailuresPerAccount: 5,
      maxFailuresPerAddress: 20,
      windowSeconds: WINDOW_SECONDS,
    }),
    signUpThrottle: unlimitedSignUps(),
  };

  beforeAll(async () => {
    await server.start();
    passwordHash = await hashPassword(PASSWORD);
  });
  afterAll(async () => {
    await server.stop();
  });

  const account = async () => {
    const handle = uniqueHandle('t');
    const email = `${handle}@example.com`;
    await store.createUser({ email, handle, displayName: handle, region: 'EU', passwordHash });
    return email;
  };
  // Each test signs in from its own address unless it says otherwise.
  let nextAddress = 1;
  const freshAddress = () => `198.51.100.${nextAddress++}`;

  const signIn = async (email: string, password: string, clientAddress: string | null) => {
    const response = await server.executeOperation(
      { query: SIGN_IN, variables: { input: { email, password } } },
      {
        contextValue: createContext({ userId: null, region: null }, countingStore, accounts, logger, {
          clientAddress,
        }),
      },
    );
    return assertSingleResult(response.body) as SingleResult;
  };

  it('should refuse the sixth failure for an account with RATE_LIMITED and a retry-after hint', async () => {
    const email = await account();
    const address = freshAddress();
    for (let i = 0; i < 5; i++) {
      expect(errorCodes(await signIn(email, 'wrong password!', address))).toEqual(['UNAUTHENTICATED']);
    }
    const before = lookups;
    // Even the right password, and from another address: the account is what is throttled.
    const blocked = await signIn(` ${email.toUpperCase()} `, PASSWORD, freshAddress());
    expect(errorCodes(blocked)).toEqual(['RATE_LIMITED']);
    const retryAfterSec = blocked.errors?.[0]?.extensions?.retryAfterSec as number;
    expect(retryAfterSec).toBeGreaterThan(WINDOW_SECONDS - 10);
    expect(retryAfterSec).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(blocked.errors?.[0]?.message).toMatch(/Too many failed sign-ins/);
    expect(blocked.data).toBeNull();
    expect(lookups).toBe(before);
  });

  it('should clear the account counter on a successful sign-in', async () => {
    const email = await account();
    const address = freshAddress();
    for (let i = 0; i < 4; i++) await signIn(email, 'wrong password!', address);
    expect(errorCodes(await signIn(email, PASSWORD, address))).toEqual([]);
    for (let i = 0; i < 5; i++) {
      expect(errorCodes(await signIn(email, 'wrong password!', address))).toEqual(['UNAUTHENTICATED']);
    }
    expect(errorCodes(await signIn(email, PASSWORD, address))).toEqual(['RATE_LIMITED']);
  });

  it('should throttle unknown emails exactly like known ones', async () => {
    const email = `${uniqueHandle('ghost')}@example.com`;
    for (let i = 0; i < 5; i++) await signIn(email, 'wrong password!', freshAddress());
    expect(errorCodes(await signIn(email, 'wrong password!', freshAddress()))).toEqual(['RATE_LIMITED']);
  });

  it('should throttle an address after 20 failures across accounts, and only that address', async () => {
    const address = freshAddress();
    for (let i = 0; i < 20; i++) {
      const codes = errorCodes(
        await signIn(`${uniqueHandle('spray')}@example.com`, 'wrong password!', address),
      );
      expect(codes).toEqual(['UNAUTHENTICATED']);
    }
    const email = await account();
    expect(errorCodes(await signIn(email, PASSWORD, address))).toEqual(['RATE_LIMITED']);
    expect(errorCodes(await signIn(email, PASSWORD, freshAddress()))).toEqual([]);
  });

  it('should not count successful sign-ins against the address', async () => {
    const address = freshAddress();
    const email = await account();
    for (let i = 0; i < 25; i++) expect(errorCodes(await signIn(email, PASSWORD, address))).toEqual([]);
  });

  it('should count an IPv6 /64 as one address', async () => {
    for (let i = 0; i < 20; i++) {
      await signIn(`${uniqueHandle('v6')}@example.com`, 'wrong password!', `2001:db8:1:2::${i.toString(16)}`);
    }
    const email = await account();
    expect(errorCodes(await signIn(email, PASSWORD, '2001:db8:1:2:ffff::1'))).toEqual(['RATE_LIMITED']);
    expect(errorCodes(await signIn(email, PASSWORD, '2001:db8:1:3::1'))).toEqual([]);
  });

  it('should let only five of twenty parallel guesses reach the password check', async () => {
    const email = await account();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => signIn(email, 'wrong password!', freshAddress())),
    );
    const codes = results.flatMap(errorCodes);
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(15);
  });

  it('should throttle per account alone when the address is unknown', async () => {
    const email = await account();
    for (let i = 0; i < 5; i++) await signIn(email, 'wrong password!', null);
    expect(errorCodes(await signIn(email, PASSWORD, null))).toEqual(['RATE_LIMITED']);
  });
});

describe('signIn throttling with Redis down', () => {
  it('should fail the sign-in, masked, rather than run unthrottled', async () => {
    // Nothing listens on port 1: every command fails at once (no offline queue).
    const limiter = await openRateLimiter({ redisUrl: 'redis://127.0.0.1:1' }, logger);
    const server = createUsersServer(logger);
    await server.start();
    try {
      const accounts: AccountSettings = {
        issueToken: async () => {
          throw new Error('no token may be issued');
        },
        defaultRegion: 'EU',
        signInThrottle: new SignInThrottle(limiter, {
          maxFailuresPerAccount: 5,
          maxFailuresPerAddress: 20,
          windowSeconds: WINDOW_SECONDS,
        }),
        signUpThrottle: unlimitedSignUps(),
      };
      const response = await server.executeOperation(
        { query: SIGN_IN, variables: { input: { email: 'a@example.com', password: PASSWORD } } },
        {
          contextValue: createContext(
            { userId: null, region: null },
            new MemoryUsersStore(),
            accounts,
            logger,
          ),
        },
      );
      const result = assertSingleResult(response.body) as SingleResult;
      expect(errorCodes(result)).toEqual(['INTERNAL_SERVER_ERROR']);
      expect(result.errors?.[0]?.message).toBe('Internal server error');
      expect(await limiter.ping()).toBe(false);
    } finally {
      await server.stop();
      await limiter.close();
    }
  });
});

describe('signUp throttling', () => {
  const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`;
  const MAX = 3;
  const server = createUsersServer(logger);
  const store = new MemoryUsersStore();
  const limiter = new MemoryRateLimiter();
  const accounts: AccountSettings = {
    issueToken,
    defaultRegion: 'EU',
    signInThrottle: new SignInThrottle(limiter, {
      maxFailuresPerAccount: 5,
      maxFailuresPerAddress: 20,
      windowSeconds: WINDOW_SECONDS,
    }),
    signUpThrottle: new SignUpThrottle(limiter, { maxPerAddress: MAX, windowSeconds: WINDOW_SECONDS }),
  };
  let nextAddress = 1;
  const freshAddress = () => `192.0.2.${nextAddress++}`;

  beforeAll(async () => {
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  const signUp = async (clientAddress: string | null, handle = uniqueHandle('up')) => {
    const input = { email: `${handle}@example.com`, password: PASSWORD, handle, displayName: handle };
    const response = await server.executeOperation(
      { query: SIGN_UP, variables: { input } },
      {
        contextValue: createContext({ userId: null, region: null }, store, accounts, logger, {
          clientAddress,
        }),
      },
    );
    return { result: assertSingleResult(response.body) as SingleResult, email: input.email };
  };

  it('should refuse sign-ups past the limit per address with RATE_LIMITED and a retry-after hint, before creating anyone', async () => {
    const address = freshAddress();
    for (let i = 0; i < MAX; i++) expect(errorCodes((await signUp(address)).result)).toEqual([]);
    const { result, email } = await signUp(address);
    expect(errorCodes(result)).toEqual(['RATE_LIMITED']);
    expect(result.errors?.[0]?.message).toMatch(/Too many sign-ups/);
    const retryAfterSec = result.errors?.[0]?.extensions?.retryAfterSec as number;
    expect(retryAfterSec).toBeGreaterThan(WINDOW_SECONDS - 10);
    expect(retryAfterSec).toBeLessThanOrEqual(WINDOW_SECONDS);
    expect(await store.findByEmail(email)).toBeNull();
    // Another address has its own budget.
    expect(errorCodes((await signUp(freshAddress())).result)).toEqual([]);
  });

  it('should count a duplicate but not input refused before any hashing', async () => {
    const address = freshAddress();
    const handle = uniqueHandle('dup');
    expect(errorCodes((await signUp(address, handle)).result)).toEqual([]);
    expect(errorCodes((await signUp(address, handle)).result)).toEqual(['CONFLICT']);
    for (let i = 0; i < 5; i++) {
      const refused = await server.executeOperation(
        {
          query: SIGN_UP,
          variables: { input: { email: 'not-an-email', password: PASSWORD, handle, displayName: handle } },
        },
        {
          contextValue: createContext({ userId: null, region: null }, store, accounts, logger, {
            clientAddress: address,
          }),
        },
      );
      expect(errorCodes(assertSingleResult(refused.body))).toEqual(['BAD_USER_INPUT']);
    }
    expect(errorCodes((await signUp(address)).result)).toEqual([]);
    expect(errorCodes((await signUp(address)).result)).toEqual(['RATE_LIMITED']);
  });

  it('should count an IPv6 /64 as one address, and not count requests of unknown address', async () => {
    for (let i = 0; i < MAX; i++) {
      expect(errorCodes((await signUp(`2001:db8:9:9::${i + 1}`)).result)).toEqual([]);
    }
    expect(errorCodes((await signUp('2001:db8:9:9:ffff::1')).result)).toEqual(['RATE_LIMITED']);
    for (let i = 0; i < MAX + 1; i++) expect(errorCodes((await signUp(null)).result)).toEqual([]);
  });

  it('should default to 20 sign-ups per address per 15 minutes: room for the demo seeding and the e2e suites', () => {
    expect(loadConfig({}).signUpThrottle).toEqual({ maxPerAddress: 20, windowSeconds: 900 });
    expect(
      loadConfig({ SIGNUP_MAX_PER_ADDRESS: '2', SIGNUP_THROTTLE_WINDOW_SECONDS: '60' }).signUpThrottle,
    ).toEqual({ maxPerAddress: 2, windowSeconds: 60 });
  });
});

describe('client address', () => {
  it('should key IPv4, IPv4-mapped IPv6 and IPv6 /64 prefixes, and ignore non-addresses', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:DB8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8:0:1:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('not-an-ip')).toBeNull();
    expect(addressKey('')).toBeNull();
    expect(addressKey(undefined)).toBeNull();
  });

  it('should read one x-client-address value from the router', () => {
    expect(clientAddressOf({ 'x-client-address': '203.0.113.7' })).toBe('203.0.113.7');
    expect(clientAddressOf({})).toBeNull();
    expect(clientAddressOf({ 'x-client-address': 'x'.repeat(100) })).toBeNull();
  });
});
