import { Writable } from 'node:stream';
import { createTokenIssuer, createTokenVerifier, DEVELOPMENT_JWT_SECRET, type Viewer } from '@fitness/auth';
import { createLogger } from '@fitness/server-kit';
import {
  assertSingleResult,
  errorCodes,
  ORDINARY_TEXT,
  REFUSED_CHARACTERS,
  type SingleResult,
} from '@fitness/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createContext } from '../src/context.js';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import type { AccountSettings } from '../src/datasources/UsersDataSource.js';
import type { UsersStore } from '../src/datasources/UsersStore.js';
import { createUsersServer } from '../src/server.js';
import { SignInThrottle } from '../src/signInThrottle.js';
import { SignUpThrottle } from '../src/signUpThrottle.js';
import { type OpenedStore, storeAdapters, uniqueHandle } from './adapters.js';

const logger = createLogger('users-test', 'silent');
const tokens = { secret: DEVELOPMENT_JWT_SECRET, issuer: 'fitness-users', audience: 'fitness-api' };
const TTL_SECONDS = 3600;
const accounts: AccountSettings = {
  issueToken: createTokenIssuer({ ...tokens, ttlSeconds: TTL_SECONDS }),
  defaultRegion: 'EU',
  // Generous limits: throttling has its own suite, and must not trip these tests.
  signInThrottle: new SignInThrottle(new MemoryRateLimiter(), {
    maxFailuresPerAccount: 1_000,
    maxFailuresPerAddress: 1_000,
    windowSeconds: 900,
  }),
  signUpThrottle: new SignUpThrottle(new MemoryRateLimiter(), { maxPerAddress: 1_000, windowSeconds: 900 }),
};
const verify = createTokenVerifier(tokens);
const UNKNOWN_ID = '0123456789abcdef01234567';
const PASSWORD = 'correct horse battery';

const SIGN_UP = `mutation ($input: SignUpInput!) {
  signUp(input: $input) { token expiresAt user { id handle displayName email region createdAt avatarUrl followersCount followingCount } }
}`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { token expiresAt user { id email } } }`;
const USER_FIELDS = 'id handle displayName avatarUrl region followersCount followingCount';

interface UserData {
  id: string;
  handle: string;
  displayName: string;
  avatarUrl: string | null;
  email?: string | null;
  region: string;
  followersCount: number;
  followingCount: number;
}

/** Asserts that no error carries internals: no stack trace, no exception payload. */
function expectNoInternals(result: SingleResult) {
  for (const error of result.errors ?? []) {
    expect(error.extensions).not.toHaveProperty('stacktrace');
    expect(error.extensions).not.toHaveProperty('exception');
    expect(JSON.stringify(error)).not.toMatch(/\n\s+at /);
  }
}

describe.each(storeAdapters('users operations on mongo'))('users operations on $name', (adapter) => {
  const server = createUsersServer(logger);
  let opened: OpenedStore;
  let store: UsersStore;

  beforeAll(async () => {
    opened = await adapter.open();
    store = opened.store;
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    await opened.close();
  });

  const run = async <T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    viewer: Pick<Viewer, 'userId'> = { userId: null },
    options: { store?: UsersStore; logger?: typeof logger } = {},
  ) => {
    const response = await server.executeOperation(
      { query, variables },
      {
        contextValue: createContext(
          { region: null, ...viewer },
          options.store ?? store,
          accounts,
          options.logger ?? logger,
        ),
      },
    );
    const result = assertSingleResult<T>(response.body);
    expectNoInternals(result as SingleResult);
    return result;
  };

  const signUpInput = (overrides: Record<string, unknown> = {}) => {
    const handle = uniqueHandle('Fan');
    return {
      email: `${handle}@Example.com`,
      password: PASSWORD,
      handle,
      displayName: 'Ana Lima',
      ...overrides,
    };
  };

  /** A user made through the store directly: fast, for tests that need no password. */
  const quickUser = async () => {
    const handle = uniqueHandle();
    return store.createUser({
      email: `${handle}@example.com`,
      handle,
      displayName: handle,
      region: 'US',
      passwordHash: 'unused',
    });
  };

  describe('signUp', () => {
    it('should create an account, sign it in and show the owner their email', async () => {
      const input = signUpInput();
      const before = Date.now();
      const result = await run<{ signUp: { token: string; expiresAt: string; user: UserData } }>(SIGN_UP, {
        input,
      });
      expect(result.errors).toBeUndefined();
      const { token, expiresAt, user } = result.data!.signUp;
      expect(user).toMatchObject({
        handle: input.handle.toLowerCase(),
        displayName: 'Ana Lima',
        email: input.email.toLowerCase(),
        region: 'EU',
        avatarUrl: null,
        followersCount: 0,
        followingCount: 0,
      });
      expect(await verify(token)).toMatchObject({ userId: user.id, region: 'EU' });
      const expires = new Date(expiresAt).getTime();
      expect(expires).toBeGreaterThanOrEqual(before + TTL_SECONDS * 1000 - 2_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + TTL_SECONDS * 1000 + 1_000);
    });

    it('should keep the region given', async () => {
      const result = await run<{ signUp: { user: UserData } }>(SIGN_UP, {
        input: signUpInput({ region: 'APAC' }),
      });
      expect(result.data?.signUp.user.region).toBe('APAC');
    });

    it('should refuse a taken email or handle with CONFLICT, whatever their case', async () => {
      const first = signUpInput();
      await run(SIGN_UP, { input: first });
      const sameEmail = await run(SIGN_UP, { input: signUpInput({ email: first.email.toUpperCase() }) });
      expect(errorCodes(sameEmail)).toEqual(['CONFLICT']);
      expect(sameEmail.errors?.[0]?.message).toBe('An account with this email already exists.');
      expect(sameEmail.data).toBeNull();
      const sameHandle = await run(SIGN_UP, { input: signUpInput({ handle: first.handle.toUpperCase() }) });
      expect(errorCodes(sameHandle)).toEqual(['CONFLICT']);
      expect(sameHandle.errors?.[0]?.message).toBe('This handle is taken.');
    });

    it.each([
      ['email', { email: 'not-an-email' }],
      ['email', { email: `${'a'.repeat(250)}@example.com` }],
      ['password', { password: 'short' }],
      ['password', { password: 'x'.repeat(129) }],
      ['handle', { handle: 'ab' }],
      ['handle', { handle: 'has-dash' }],
      ['handle', { handle: 'x'.repeat(21) }],
      ['displayName', { displayName: '   ' }],
      ['displayName', { displayName: 'bell\u0007' }],
      ['displayName', { displayName: 'x'.repeat(51) }],
    ])('should refuse a bad %s with BAD_USER_INPUT', async (field, overrides) => {
      const result = await run(SIGN_UP, { input: signUpInput(overrides) });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe(field);
      expect(result.data).toBeNull();
    });

    const badCharacters = REFUSED_CHARACTERS.flatMap(([name, c]) => [
      ['displayName', name, { displayName: `Ana${c}Lima` }] as const,
      ['handle', name, { handle: `ana${c}lima` }] as const,
      ['email', name, { email: `ana${c}@example.com` }] as const,
    ]);
    it.each(badCharacters)(
      'should refuse %s with %s as BAD_USER_INPUT naming it',
      async (field, _, overrides) => {
        const result = await run(SIGN_UP, { input: signUpInput(overrides) });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe(field);
        expect(result.errors?.[0]?.message).toMatch(/control or invisible characters|unpaired surrogate/);
        expect(result.data).toBeNull();
      },
    );

    it.each(ORDINARY_TEXT)('should keep the display name %j as sent', async (displayName) => {
      const result = await run<{ signUp: { user: UserData } }>(SIGN_UP, {
        input: signUpInput({ displayName }),
      });
      expect(result.errors).toBeUndefined();
      expect(result.data?.signUp.user.displayName).toBe(displayName);
    });

    it('should refuse NUL and lone surrogates in a password, and accept other unusual characters', async () => {
      for (const [name, c] of REFUSED_CHARACTERS.filter(([n]) => n === 'NUL' || n === 'a lone surrogate')) {
        const result = await run(SIGN_UP, { input: signUpInput({ password: `${PASSWORD}${c}` }) });
        expect(errorCodes(result), name).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe('password');
      }
      // Never shown, so neither controls nor bidi characters can mislead anyone.
      const input = signUpInput({ password: `${PASSWORD}\u0085\u202E\t` });
      expect((await run(SIGN_UP, { input })).errors).toBeUndefined();
      expect(
        (await run(SIGN_IN, { input: { email: input.email, password: input.password } })).errors,
      ).toBeUndefined();
    });

    it('should let exactly one of 20 concurrent sign-ups with one email through', async () => {
      const email = `${uniqueHandle()}@example.com`;
      const results = await Promise.all(
        Array.from({ length: 20 }, () => run(SIGN_UP, { input: signUpInput({ email }) })),
      );
      expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
      const refused = results.filter((r) => r.errors !== undefined);
      expect(refused).toHaveLength(19);
      expect(refused.every((r) => errorCodes(r).join() === 'CONFLICT')).toBe(true);
    });
  });

  describe('signIn', () => {
    const input = signUpInput();
    let userId: string;

    beforeAll(async () => {
      const result = await run<{ signUp: { user: UserData } }>(SIGN_UP, { input });
      userId = result.data!.signUp.user.id;
    });

    it('should sign in with the right password, email in any case', async () => {
      const result = await run<{ signIn: { token: string; user: UserData } }>(SIGN_IN, {
        input: { email: ` ${input.email.toUpperCase()} `, password: PASSWORD },
      });
      expect(result.errors).toBeUndefined();
      expect(result.data?.signIn.user).toEqual({ id: userId, email: input.email.toLowerCase() });
      expect(await verify(result.data!.signIn.token)).toMatchObject({ userId, region: 'EU' });
    });

    it('should answer a wrong password and an unknown email with the same error', async () => {
      const wrongPassword = await run(SIGN_IN, { input: { email: input.email, password: `${PASSWORD}!` } });
      const unknownEmail = await run(SIGN_IN, { input: { email: `x${input.email}`, password: PASSWORD } });
      const tooLong = await run(SIGN_IN, { input: { email: input.email, password: 'x'.repeat(5000) } });
      for (const result of [wrongPassword, unknownEmail, tooLong]) {
        expect(result.data).toBeNull();
        expect(result.errors).toEqual([
          {
            message: 'Invalid email or password.',
            path: ['signIn'],
            locations: expect.any(Array),
            extensions: { code: 'UNAUTHENTICATED' },
          },
        ]);
      }
    });

    it.each(REFUSED_CHARACTERS)(
      'should refuse an email with %s as BAD_USER_INPUT naming it',
      async (_, c) => {
        const result = await run(SIGN_IN, { input: { email: `${c}${input.email}`, password: PASSWORD } });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe('email');
      },
    );

    it.each(REFUSED_CHARACTERS.filter(([n]) => n === 'NUL' || n === 'a lone surrogate'))(
      'should refuse a password with %s as BAD_USER_INPUT naming it',
      async (_, c) => {
        const result = await run(SIGN_IN, { input: { email: input.email, password: `${PASSWORD}${c}` } });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe('password');
      },
    );

    it('should answer a failed sign-in with HTTP 200, so the router passes the message on', async () => {
      const response = await server.executeOperation(
        { query: SIGN_IN, variables: { input: { email: input.email, password: 'wrong password!' } } },
        { contextValue: createContext({ userId: null, region: null }, store, accounts, logger) },
      );
      expect(response.http.status ?? 200).toBe(200);
      expect(errorCodes(assertSingleResult(response.body))).toEqual(['UNAUTHENTICATED']);
    });

    it('should take about as long for an unknown email as for a wrong password', async () => {
      const time = async (email: string) => {
        const start = performance.now();
        for (let i = 0; i < 3; i++) await run(SIGN_IN, { input: { email, password: 'wrong password!' } });
        return performance.now() - start;
      };
      await time(`warm-up-${input.email}`);
      const known = await time(input.email);
      const unknown = await time(`nobody-${input.email}`);
      // Both run one scrypt; without the dummy hash the unknown email would be ~100x faster.
      expect(unknown / known).toBeGreaterThan(0.2);
      expect(unknown / known).toBeLessThan(5);
    });

    it('should never log the password, its hash or the token', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const capturing = pino({ level: 'trace' }, sink);
      const fresh = signUpInput();
      const up = await run<{ signUp: { token: string } }>(SIGN_UP, { input: fresh }, undefined, {
        logger: capturing,
      });
      const inn = await run<{ signIn: { token: string } }>(
        SIGN_IN,
        { input: { email: fresh.email, password: PASSWORD } },
        undefined,
        { logger: capturing },
      );
      const hash = (await store.findByEmail(fresh.email))!.passwordHash;
      const log = lines.join('');
      expect(log).toContain('user signed up');
      for (const secret of [PASSWORD, hash, up.data!.signUp.token, inn.data!.signIn.token]) {
        expect(log).not.toContain(secret);
      }
    });
  });

  describe('queries', () => {
    it('should answer me with null when anonymous and with the viewer otherwise', async () => {
      const anonymous = await run('{ me { id } }');
      expect(anonymous).toEqual({ data: { me: null } });
      const user = await quickUser();
      const signedIn = await run('{ me { id email } }', {}, { userId: user.id });
      expect(signedIn).toEqual({ data: { me: { id: user.id, email: user.email } } });
    });

    it('should find a user by id, and null for unknown or malformed ids', async () => {
      const user = await quickUser();
      const result = await run(
        `query ($a: ID!, $b: ID!, $c: ID!) {
          a: user(id: $a) { ${USER_FIELDS} createdAt }
          b: user(id: $b) { id }
          c: user(id: $c) { id }
        }`,
        { a: user.id, b: UNKNOWN_ID, c: '{"$ne":null}' },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        a: {
          id: user.id,
          handle: user.handle,
          displayName: user.displayName,
          avatarUrl: null,
          region: 'US',
          followersCount: 0,
          followingCount: 0,
          createdAt: user.createdAt.toISOString(),
        },
        b: null,
        c: null,
      });
    });

    it('should find a user by handle regardless of case', async () => {
      const user = await quickUser();
      const result = await run(
        `query ($h: String!, $bad: String!) { found: userByHandle(handle: $h) { id handle } none: userByHandle(handle: $bad) { id } }`,
        { h: user.handle.toUpperCase(), bad: 'no such handle!' },
      );
      expect(result).toEqual({ data: { found: { id: user.id, handle: user.handle }, none: null } });
    });

    it('should show the email to its owner only: null and FORBIDDEN for anyone else', async () => {
      const owner = await quickUser();
      const other = await quickUser();
      const query = `query ($id: ID!) { user(id: $id) { id email } }`;
      expect(await run(query, { id: owner.id }, { userId: owner.id })).toEqual({
        data: { user: { id: owner.id, email: owner.email } },
      });
      for (const viewer of [{ userId: other.id }, { userId: null }]) {
        const result = await run(query, { id: owner.id }, viewer);
        expect(result.data).toEqual({ user: { id: owner.id, email: null } });
        expect(errorCodes(result)).toEqual(['FORBIDDEN']);
        expect(result.errors?.[0]?.path).toEqual(['user', 'email']);
      }
    });
  });

  describe('updateProfile', () => {
    const UPDATE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { id displayName avatarUrl } }`;

    it('should require a signed-in user', async () => {
      const result = await run(UPDATE, { input: { displayName: 'x' } });
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    });

    it('should change the name and avatar, and remove the avatar on null', async () => {
      const user = await quickUser();
      const viewer = { userId: user.id };
      const set = await run(
        UPDATE,
        { input: { displayName: '  Ana  ', avatarUrl: 'https://cdn.example.com/ana.png' } },
        viewer,
      );
      expect(set).toEqual({
        data: {
          updateProfile: { id: user.id, displayName: 'Ana', avatarUrl: 'https://cdn.example.com/ana.png' },
        },
      });
      const cleared = await run(UPDATE, { input: { avatarUrl: null } }, viewer);
      expect(cleared.data).toEqual({ updateProfile: { id: user.id, displayName: 'Ana', avatarUrl: null } });
    });

    it.each([
      ['displayName', { displayName: '' }],
      ['displayName', { displayName: null }],
      ['displayName', { displayName: 'tab\there' }],
      ['avatarUrl', { avatarUrl: 'http://cdn.example.com/a.png' }],
      ['avatarUrl', { avatarUrl: 'javascript:alert(1)' }],
      ['avatarUrl', { avatarUrl: `https://cdn.example.com/${'a'.repeat(2048)}` }],
    ])('should refuse a bad %s with BAD_USER_INPUT', async (field, input) => {
      const user = await quickUser();
      const result = await run(UPDATE, { input }, { userId: user.id });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors?.[0]?.extensions?.field).toBe(field);
    });

    const badCharacters = REFUSED_CHARACTERS.flatMap(([name, c]) => [
      ['displayName', name, { displayName: `Ana${c}Lima` }] as const,
      ['avatarUrl', name, { avatarUrl: `https://cdn.example.com/a${c}.png` }] as const,
    ]);
    it.each(badCharacters)(
      'should refuse %s with %s as BAD_USER_INPUT naming it',
      async (field, _, input) => {
        const user = await quickUser();
        const result = await run(UPDATE, { input }, { userId: user.id });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
        expect(result.errors?.[0]?.extensions?.field).toBe(field);
        expect(result.errors?.[0]?.message).toMatch(/control or invisible characters|unpaired surrogate/);
        expect((await store.usersByIds([user.id]))[0]).toMatchObject({
          displayName: user.displayName,
          avatarUrl: null,
        });
      },
    );

    it.each(ORDINARY_TEXT)('should keep the display name %j as sent', async (displayName) => {
      const user = await quickUser();
      const result = await run(UPDATE, { input: { displayName } }, { userId: user.id });
      expect(result.data).toEqual({ updateProfile: { id: user.id, displayName, avatarUrl: null } });
    });

    it('should answer NOT_FOUND for a token whose user no longer exists', async () => {
      const result = await run(UPDATE, { input: { displayName: 'x' } }, { userId: UNKNOWN_ID });
      expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    });
  });

  describe('follow and unfollow', () => {
    const FOLLOW = `mutation ($id: ID!) { follow(userId: $id) { id followersCount } }`;
    const UNFOLLOW = `mutation ($id: ID!) { unfollow(userId: $id) { id followersCount } }`;
    const countsOf = async (id: string) => {
      const result = await run<{ user: UserData }>(
        `query ($id: ID!) { user(id: $id) { followersCount followingCount } }`,
        { id },
      );
      return result.data?.user;
    };

    it('should be idempotent both ways and return the followed user', async () => {
      const fan = await quickUser();
      const star = await quickUser();
      const viewer = { userId: fan.id };
      for (let i = 0; i < 2; i++) {
        expect(await run(FOLLOW, { id: star.id }, viewer)).toEqual({
          data: { follow: { id: star.id, followersCount: 1 } },
        });
      }
      expect(await countsOf(fan.id)).toEqual({ followersCount: 0, followingCount: 1 });
      for (let i = 0; i < 2; i++) {
        expect(await run(UNFOLLOW, { id: star.id }, viewer)).toEqual({
          data: { unfollow: { id: star.id, followersCount: 0 } },
        });
      }
      expect(await countsOf(fan.id)).toEqual({ followersCount: 0, followingCount: 0 });
    });

    it('should see fresh counts when one operation follows and reads back', async () => {
      const fan = await quickUser();
      const star = await quickUser();
      const result = await run(
        `mutation ($id: ID!) { before: unfollow(userId: $id) { followersCount } after: follow(userId: $id) { followersCount } }`,
        { id: star.id },
        { userId: fan.id },
      );
      expect(result.data).toEqual({ before: { followersCount: 0 }, after: { followersCount: 1 } });
    });

    it('should refuse following oneself with BAD_USER_INPUT', async () => {
      const user = await quickUser();
      for (const mutation of [FOLLOW, UNFOLLOW]) {
        const result = await run(mutation, { id: user.id }, { userId: user.id });
        expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      }
      expect(await countsOf(user.id)).toEqual({ followersCount: 0, followingCount: 0 });
    });

    it('should answer NOT_FOUND for unknown and malformed users, UNAUTHENTICATED when anonymous', async () => {
      const user = await quickUser();
      for (const id of [UNKNOWN_ID, 'nope']) {
        expect(errorCodes(await run(FOLLOW, { id }, { userId: user.id }))).toEqual(['NOT_FOUND']);
        expect(errorCodes(await run(UNFOLLOW, { id }, { userId: user.id }))).toEqual(['NOT_FOUND']);
      }
      expect(errorCodes(await run(FOLLOW, { id: user.id }))).toEqual(['UNAUTHENTICATED']);
    });

    it('should count 50 concurrent followers exactly', async () => {
      const star = await quickUser();
      const fans = await Promise.all(Array.from({ length: 50 }, quickUser));
      const results = await Promise.all(fans.map((fan) => run(FOLLOW, { id: star.id }, { userId: fan.id })));
      expect(results.every((r) => r.errors === undefined)).toBe(true);
      expect(await countsOf(star.id)).toEqual({ followersCount: 50, followingCount: 0 });
    });

    it('should count one follow sent 20 times at once only once', async () => {
      const fan = await quickUser();
      const star = await quickUser();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => run(FOLLOW, { id: star.id }, { userId: fan.id })),
      );
      expect(results.every((r) => r.errors === undefined)).toBe(true);
      expect(await countsOf(star.id)).toEqual({ followersCount: 1, followingCount: 0 });
      expect(await countsOf(fan.id)).toEqual({ followersCount: 0, followingCount: 1 });
    });
  });

  describe('federation', () => {
    it('should expose its SDL through _service', async () => {
      const result = await run<{ _service: { sdl: string } }>('{ _service { sdl } }');
      const sdl = result.data!._service.sdl;
      expect(sdl).toMatch(/type User\s+@key\(fields: "id"\)/);
      expect(sdl).toContain('signUp(input: SignUpInput!): AuthPayload!');
    });

    it('should resolve 100 User entities with one store call, in order, null for unknown ids', async () => {
      const users = await Promise.all(Array.from({ length: 98 }, quickUser));
      const ids = [...users.map((u) => u.id), UNKNOWN_ID, 'malformed'];
      const usersByIds = vi.spyOn(store, 'usersByIds');
      try {
        const result = await run<{ _entities: ({ id: string; handle: string } | null)[] }>(
          `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id handle } } }`,
          { reps: ids.map((id) => ({ __typename: 'User', id })) },
        );
        expect(result.errors).toBeUndefined();
        expect(usersByIds).toHaveBeenCalledTimes(1);
        expect(usersByIds.mock.calls[0]?.[0]).toHaveLength(100);
        expect(result.data?._entities).toEqual([
          ...users.map((u) => ({ id: u.id, handle: u.handle })),
          null,
          null,
        ]);
      } finally {
        usersByIds.mockRestore();
      }
    });
  });

  it('should mask an unexpected store failure as INTERNAL_SERVER_ERROR', async () => {
    // Every method of the real store, except a read that fails like a dropped connection.
    const broken: UsersStore = Object.create(store);
    broken.usersByIds = () => Promise.reject(new Error('connection to 10.0.0.7:27017 reset'));
    const result = await run(
      '{ user(id: "0123456789abcdef01234567") { id } }',
      {},
      { userId: null },
      {
        store: broken,
      },
    );
    expect(result.errors).toEqual([
      {
        message: 'Internal server error',
        locations: expect.any(Array),
        path: ['user'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
  });
});
