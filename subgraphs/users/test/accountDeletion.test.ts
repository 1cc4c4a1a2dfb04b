import { randomBytes } from 'node:crypto';
import {
  createTokenIssuer,
  createTokenVerifier,
  DEVELOPMENT_JWT_SECRET,
  MemoryRevocationList,
} from '@fitness/auth';
import { type Envelope, InProcessEventBus } from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, waitFor } from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import type { AccountSettings } from '../src/datasources/UsersDataSource.js';
import type { UsersStore } from '../src/datasources/UsersStore.js';
import { startFollowErasure } from '../src/erasure.js';
import { userDeleted } from '../src/events.js';
import { createUsersServer } from '../src/server.js';
import { SignInThrottle } from '../src/signInThrottle.js';
import { SignUpThrottle } from '../src/signUpThrottle.js';
import { type OpenedStore, storeAdapters } from './adapters.js';

const logger = createLogger('users-deletion-test', 'silent');
const tokens = { secret: DEVELOPMENT_JWT_SECRET, issuer: 'fitness-users', audience: 'fitness-api' };
const PASSWORD = 'correct horse battery';
const MAX_FAILURES = 3;

const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id } } }';
const SIGN_IN = 'mutation ($input: SignInInput!) { signIn(input: $input) { token } }';
const DELETE = 'mutation ($password: String!) { deleteAccount(password: $password) }';
const SIGN_OUT = 'mutation { signOutEverywhere }';
const FOLLOW = 'mutation ($id: ID!) { follow(userId: $id) { id followersCount } }';
const USER = 'query ($id: ID!) { user(id: $id) { id followersCount followingCount } }';

describe.each(storeAdapters('users account deletion operations'))(
  'deleteAccount and signOutEverywhere on $name',
  (adapter) => {
    const server = createUsersServer(logger);
    const bus = new InProcessEventBus();
    const revocations = new MemoryRevocationList();
    const verify = createTokenVerifier(tokens, { revocations });
    const accounts: AccountSettings = {
      issueToken: createTokenIssuer({ ...tokens, ttlSeconds: 3600 }),
      defaultRegion: 'EU',
      signInThrottle: new SignInThrottle(new MemoryRateLimiter(), {
        maxFailuresPerAccount: MAX_FAILURES,
        maxFailuresPerAddress: 1_000,
        windowSeconds: 900,
      }),
      signUpThrottle: new SignUpThrottle(new MemoryRateLimiter(), {
        maxPerAddress: 1_000,
        windowSeconds: 900,
      }),
      revocation: { list: revocations, tokenTtlSeconds: 3600 },
    };
    const events: Envelope[] = [];
    let opened: OpenedStore;
    let store: UsersStore;

    beforeAll(async () => {
      await bus.consume('deletion-ops-test', {
        subjects: ['users.>'],
        handler: async (event) => void events.push(event),
      });
      opened = await adapter.open({ bus });
      store = opened.store;
      await server.start();
    });
    afterAll(async () => {
      await server.stop();
      await opened.close();
      await bus.close();
    });

    const run = async <T = Record<string, unknown>>(
      query: string,
      variables: Record<string, unknown> = {},
      userId: string | null = null,
    ) =>
      assertSingleResult<T>(
        (
          await server.executeOperation(
            { query, variables },
            { contextValue: createContext({ userId, region: null }, store, accounts, logger) },
          )
        ).body,
      );

    const signUp = async () => {
      const handle = `del_${randomBytes(4).toString('hex')}`;
      const email = `${handle}@example.com`;
      const result = await run<{ signUp: { token: string; user: { id: string } } }>(SIGN_UP, {
        input: { email, password: PASSWORD, handle, displayName: 'Dee Leted' },
      });
      expect(result.errors).toBeUndefined();
      return { ...result.data!.signUp, email, handle };
    };

    it('should refuse a caller without a token and a wrong password, and throttle wrong passwords like signIn', async () => {
      const account = await signUp();
      expect(errorCodes(await run(DELETE, { password: PASSWORD }))).toEqual(['UNAUTHENTICATED']);
      const wrong = await run(DELETE, { password: 'not the password' }, account.user.id);
      expect(errorCodes(wrong)).toEqual(['UNAUTHENTICATED']);
      expect(wrong.errors?.[0]?.message).toBe('Invalid password.');
      // The same per-account counter as signIn: after the limit both are throttled.
      for (let i = 1; i < MAX_FAILURES; i++) await run(DELETE, { password: 'still wrong!' }, account.user.id);
      expect(errorCodes(await run(DELETE, { password: PASSWORD }, account.user.id))).toEqual([
        'RATE_LIMITED',
      ]);
      expect(errorCodes(await run(SIGN_IN, { input: { email: account.email, password: PASSWORD } }))).toEqual(
        ['RATE_LIMITED'],
      );
      expect((await store.usersByIds([account.user.id]))[0]).not.toBeNull();
    });

    it('should delete the account, revoke its tokens at once, remove its follows and emit users.deleted once', async () => {
      const [gone, fan, idol] = [await signUp(), await signUp(), await signUp()];
      await run(FOLLOW, { id: idol.user.id }, gone.user.id);
      await run(FOLLOW, { id: gone.user.id }, fan.user.id);
      expect(await verify(gone.token)).toMatchObject({ userId: gone.user.id });

      const deleted = await run<{ deleteAccount: boolean }>(DELETE, { password: PASSWORD }, gone.user.id);
      expect(deleted).toEqual({ data: { deleteAccount: true } });
      await expect(verify(gone.token)).rejects.toThrow('Token has been revoked.');
      expect((await run(USER, { id: gone.user.id })).data).toEqual({ user: null });
      expect((await run(USER, { id: idol.user.id })).data?.user).toMatchObject({ followersCount: 0 });
      expect((await run(USER, { id: fan.user.id })).data?.user).toMatchObject({ followingCount: 0 });
      const signIn = await run(SIGN_IN, { input: { email: gone.email, password: PASSWORD } });
      expect(errorCodes(signIn)).toEqual(['UNAUTHENTICATED']);
      // Asked again (a retry, another tab): the account is gone, nothing more happens.
      expect(errorCodes(await run(DELETE, { password: PASSWORD }, gone.user.id))).toEqual([
        'UNAUTHENTICATED',
      ]);
      const ofGone = () => events.filter((e) => (e.payload as { userId: string }).userId === gone.user.id);
      await waitFor(() => ofGone().some((e) => e.type === 'users.deleted'), 'users.deleted');
      expect(ofGone().map((e) => e.type)).toEqual(['users.registered', 'users.deleted']);
      expect(ofGone()[1]?.payload).toEqual({
        userId: gone.user.id,
        occurredAt: expect.any(String),
        tokensExpireBy: expect.any(String),
      });
    });

    it('should sign out every token issued until now, and accept the next sign-in', async () => {
      const account = await signUp();
      const second = await run<{ signIn: { token: string } }>(SIGN_IN, {
        input: { email: account.email, password: PASSWORD },
      });
      expect(await run(SIGN_OUT, {}, account.user.id)).toEqual({ data: { signOutEverywhere: true } });
      await expect(verify(account.token)).rejects.toThrow('Token has been revoked.');
      await expect(verify(second.data!.signIn.token)).rejects.toThrow('Token has been revoked.');
      const fresh = await run<{ signIn: { token: string } }>(SIGN_IN, {
        input: { email: account.email, password: PASSWORD },
      });
      expect(await verify(fresh.data!.signIn.token)).toMatchObject({ userId: account.user.id });
      expect(errorCodes(await run(SIGN_OUT))).toEqual(['UNAUTHENTICATED']);
      await waitFor(
        () =>
          events.some(
            (e) =>
              e.type === 'users.signed_out' && (e.payload as { userId: string }).userId === account.user.id,
          ),
        'users.signed_out',
      );
    });

    it('should remove the follows of a deleted account from its event, and a replayed event changes nothing', async () => {
      const erasure = await startFollowErasure({ bus, store });
      const [gone, fan] = [await signUp(), await signUp()];
      await run(FOLLOW, { id: gone.user.id }, fan.user.id);
      // A deletion cut short before its follows went: the event finishes the job.
      await store.deleteUser(gone.user.id, userDeleted(gone.user.id, new Date(), 3600));
      const following = async () =>
        (await run<{ user: { followingCount: number } }>(USER, { id: fan.user.id })).data?.user
          .followingCount;
      await waitFor(async () => (await following()) === 0, 'the follow to go');
      // Every users.deleted on the bus applied, then the same account's once more.
      const replay = userDeleted(gone.user.id, new Date(), 3600);
      await bus.publish(replay);
      await waitFor(() => events.some((e) => e.id === replay.id), 'the replay on the bus');
      const deletions = () => events.filter((e) => e.type === 'users.deleted').length;
      await waitFor(async () => (await erasure.metrics()).processed === deletions(), 'the replay applied');
      expect(await following()).toBe(0);
      expect(await store.followIdsWithoutUser()).toEqual([]);
      await erasure.stop();
    });
  },
);
