import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { DuplicateError, type UsersStore } from '../src/datasources/UsersStore.js';
import { newUser, type OpenedStore, storeAdapters, uniqueHandle } from './adapters.js';

const UNKNOWN_ID = '0123456789abcdef01234567';

describe.each(storeAdapters('users mongo store'))('UsersStore contract on $name', (adapter) => {
  let opened: OpenedStore;
  let store: UsersStore;

  beforeAll(async () => {
    opened = await adapter.open();
    store = opened.store;
  });
  afterAll(async () => {
    await opened.close();
  });

  describe('createUser', () => {
    it('should store a user with lowercased email and handle and zero counts', async () => {
      const input = newUser();
      const user = await store.createUser({
        ...input,
        email: input.email.toUpperCase(),
        handle: `X${input.handle}`,
      });
      expect(user).toMatchObject({
        email: input.email,
        handle: `x${input.handle}`,
        displayName: 'Test User',
        avatarUrl: null,
        region: 'EU',
        followersCount: 0,
        followingCount: 0,
      });
      expect(user.id).toMatch(/^[0-9a-f]{24}$/);
      expect(user.createdAt).toBeInstanceOf(Date);
      expect(user).not.toHaveProperty('passwordHash');
    });

    it('should refuse a second account with the same email, whatever its case', async () => {
      const first = newUser();
      await store.createUser(first);
      const attempt = store.createUser(newUser({ email: first.email.toUpperCase() }));
      await expect(attempt).rejects.toBeInstanceOf(DuplicateError);
      await expect(attempt).rejects.toMatchObject({ field: 'email' });
    });

    it('should refuse a second account with the same handle, whatever its case', async () => {
      const first = newUser();
      await store.createUser(first);
      await expect(store.createUser(newUser({ handle: first.handle.toUpperCase() }))).rejects.toMatchObject({
        field: 'handle',
      });
    });

    it('should let exactly one of 20 concurrent sign-ups with one email succeed', async () => {
      const email = `${uniqueHandle()}@example.com`;
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => store.createUser(newUser({ email }))),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter(
        (r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason instanceof DuplicateError,
      );
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(19);
      expect(refused.every((r) => r.reason.field === 'email')).toBe(true);
    });
  });

  describe('reads', () => {
    it('should find a user by email with its password hash, case-insensitively', async () => {
      const input = newUser();
      const user = await store.createUser(input);
      const found = await store.findByEmail(input.email.toUpperCase());
      expect(found).toEqual({ user, passwordHash: input.passwordHash });
      expect(await store.findByEmail(`nobody-${input.email}`)).toBeNull();
    });

    it('should return users by id in key order with null for unknown and malformed ids', async () => {
      const a = await store.createUser(newUser());
      const b = await store.createUser(newUser());
      const found = await store.usersByIds([b.id, UNKNOWN_ID, a.id, 'not-an-id', b.id, a.id.toUpperCase()]);
      expect(found).toEqual([b, null, a, null, b, a]);
      expect(await store.usersByIds([])).toEqual([]);
    });

    it('should never treat an id as a query operator', async () => {
      await store.createUser(newUser());
      expect(await store.usersByIds(['{"$ne":null}', '[object Object]'])).toEqual([null, null]);
      expect(await store.findByEmail('{"$ne": null}')).toBeNull();
    });

    it('should find a user by handle case-insensitively', async () => {
      const input = newUser();
      const user = await store.createUser(input);
      expect(await store.findByHandle(input.handle.toUpperCase())).toEqual(user);
      expect(await store.findByHandle(`${input.handle}x`)).toBeNull();
    });
  });

  describe('updateProfile', () => {
    it('should change only the fields given and remove the avatar on null', async () => {
      const user = await store.createUser(newUser());
      const withAvatar = await store.updateProfile(user.id, { avatarUrl: 'https://cdn.example.com/a.png' });
      expect(withAvatar).toEqual({ ...user, avatarUrl: 'https://cdn.example.com/a.png' });
      const renamed = await store.updateProfile(user.id, { displayName: 'Renamed' });
      expect(renamed).toEqual({
        ...user,
        displayName: 'Renamed',
        avatarUrl: 'https://cdn.example.com/a.png',
      });
      const removed = await store.updateProfile(user.id, { avatarUrl: null });
      expect(removed).toEqual({ ...user, displayName: 'Renamed', avatarUrl: null });
      expect((await store.usersByIds([user.id]))[0]).toEqual(removed);
    });

    it('should return null for unknown and malformed ids', async () => {
      expect(await store.updateProfile(UNKNOWN_ID, { displayName: 'x' })).toBeNull();
      expect(await store.updateProfile('nope', { displayName: 'x' })).toBeNull();
    });
  });

  describe('follow and unfollow', () => {
    const counts = async (id: string) => {
      const [user] = await store.usersByIds([id]);
      return { followers: user?.followersCount, following: user?.followingCount };
    };

    it('should count a follow once and an unfollow once, however often repeated', async () => {
      const a = await store.createUser(newUser());
      const b = await store.createUser(newUser());
      expect(await store.follow(a.id, b.id)).toBe('changed');
      expect(await store.follow(a.id, b.id)).toBe('unchanged');
      expect(await counts(a.id)).toEqual({ followers: 0, following: 1 });
      expect(await counts(b.id)).toEqual({ followers: 1, following: 0 });
      expect(await store.unfollow(a.id, b.id)).toBe('changed');
      expect(await store.unfollow(a.id, b.id)).toBe('unchanged');
      expect(await counts(a.id)).toEqual({ followers: 0, following: 0 });
      expect(await counts(b.id)).toEqual({ followers: 0, following: 0 });
    });

    it('should report unknown users without touching any count', async () => {
      const a = await store.createUser(newUser());
      expect(await store.follow(a.id, UNKNOWN_ID)).toBe('unknown-user');
      expect(await store.follow(UNKNOWN_ID, a.id)).toBe('unknown-user');
      expect(await store.follow(a.id, 'nope')).toBe('unknown-user');
      expect(await store.unfollow(a.id, UNKNOWN_ID)).toBe('unknown-user');
      expect(await counts(a.id)).toEqual({ followers: 0, following: 0 });
    });

    it('should refuse an edge from a user to themselves', async () => {
      const a = await store.createUser(newUser());
      await expect(store.follow(a.id, a.id)).rejects.toThrow('cannot follow themselves');
      expect(await counts(a.id)).toEqual({ followers: 0, following: 0 });
    });

    it('should leave a user unchanged on an empty patch', async () => {
      const a = await store.createUser(newUser());
      expect(await store.updateProfile(a.id, {})).toEqual(a);
    });

    it('should count 50 concurrent followers exactly', async () => {
      const star = await store.createUser(newUser());
      const fans = await Promise.all(Array.from({ length: 50 }, () => store.createUser(newUser())));
      const outcomes = await Promise.all(fans.map((fan) => store.follow(fan.id, star.id)));
      expect(outcomes.every((o) => o === 'changed')).toBe(true);
      expect(await counts(star.id)).toEqual({ followers: 50, following: 0 });
      const after = await store.usersByIds(fans.map((f) => f.id));
      expect(after.every((f) => f?.followingCount === 1)).toBe(true);
    });

    it('should count one follow repeated concurrently once, and its concurrent unfollows once', async () => {
      const a = await store.createUser(newUser());
      const b = await store.createUser(newUser());
      const follows = await Promise.all(Array.from({ length: 20 }, () => store.follow(a.id, b.id)));
      expect(follows.filter((o) => o === 'changed')).toHaveLength(1);
      expect(await counts(b.id)).toEqual({ followers: 1, following: 0 });
      expect(await counts(a.id)).toEqual({ followers: 0, following: 1 });
      const unfollows = await Promise.all(Array.from({ length: 20 }, () => store.unfollow(a.id, b.id)));
      expect(unfollows.filter((o) => o === 'changed')).toHaveLength(1);
      expect(await counts(b.id)).toEqual({ followers: 0, following: 0 });
      expect(await counts(a.id)).toEqual({ followers: 0, following: 0 });
    });
  });

  it('should answer ping', async () => {
    expect(await store.ping()).toBe(true);
  });
});

describe('in-process store snapshot', () => {
  it('should keep accounts, hashes and follows across a restart, and keep nothing without a path', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'users-snapshot-'));
    const path = join(dir, 'users.json');
    try {
      const first = new MemoryUsersStore(undefined, path);
      const a = await first.createUser({
        email: 'A@x.io',
        handle: 'Ann',
        displayName: 'Ann',
        region: 'EU',
        passwordHash: 'h1',
      });
      const b = await first.createUser({
        email: 'b@x.io',
        handle: 'bob',
        displayName: 'Bob',
        region: 'US',
        passwordHash: 'h2',
      });
      await first.follow(b.id, a.id);
      await first.updateProfile(a.id, { displayName: 'Ann B' });
      first.save();

      const second = new MemoryUsersStore(undefined, path);
      expect(await second.findByEmail('a@x.io')).toEqual({
        user: { ...a, displayName: 'Ann B', followersCount: 1 },
        passwordHash: 'h1',
      });
      expect((await second.findByHandle('BOB'))?.followingCount).toBe(1);
      await expect(
        second.createUser({
          email: 'a@x.io',
          handle: 'new',
          displayName: 'N',
          region: 'EU',
          passwordHash: 'h',
        }),
      ).rejects.toThrow();
      expect(await second.follow(b.id, a.id)).toBe('unchanged');

      const none = new MemoryUsersStore();
      expect(await none.findByEmail('a@x.io')).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
