import { randomBytes } from 'node:crypto';
import { realService } from '@fitness/testing';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoUsersStore } from '../src/datasources/MongoUsersStore.js';
import { DuplicateError } from '../src/datasources/UsersStore.js';
import { connectMongo } from '../src/stores.js';
import { newUser, uniqueHandle } from './adapters.js';

/**
 * What only the Mongo adapter can get wrong; the contract suite (usersStore.test.ts)
 * runs every query of the store against MongoDB as well.
 */
const mongoUrl = realService('mongodb', 'users Mongo adapter');

/** A value a JavaScript caller could smuggle past the port's string types. */
const operator = (value: object) => value as unknown as string;

describe.skipIf(!mongoUrl)('MongoUsersStore on MongoDB', () => {
  let connection: Connection;
  let store: MongoUsersStore;
  const dbName = `users_mongo_${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    connection = await connectMongo(mongoUrl!, { dbName });
    store = await MongoUsersStore.open(connection);
  });
  afterAll(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  const users = () => connection.db!.collection('users');
  const follows = () => connection.db!.collection('follows');

  it('should have the unique indexes and the outbox index once open answers', async () => {
    const indexes = async (name: string) =>
      (await connection.db!.collection(name).listIndexes().toArray()).map((i) => ({
        key: i.key,
        unique: i.unique ?? false,
        partial: i.partialFilterExpression ?? null,
      }));
    expect(await indexes('users')).toEqual(
      expect.arrayContaining([
        { key: { email: 1 }, unique: true, partial: null },
        { key: { handle: 1 }, unique: true, partial: null },
        { key: { 'outbox.since': 1 }, unique: false, partial: { 'outbox.since': { $exists: true } } },
      ]),
    );
    expect(await indexes('follows')).toEqual(
      expect.arrayContaining([
        { key: { followerId: 1, followeeId: 1 }, unique: true, partial: null },
        { key: { followeeId: 1 }, unique: false, partial: null },
      ]),
    );
  });

  it('should let exactly one of 20 parallel sign-ups with one handle succeed, in any case', async () => {
    const handle = uniqueHandle('race');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.createUser(newUser({ handle: i % 2 ? handle.toUpperCase() : handle })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(refused).toHaveLength(19);
    expect(refused.every((e) => e instanceof DuplicateError && e.field === 'handle')).toBe(true);
    expect(await users().countDocuments({ handle })).toBe(1);
  });

  it('should let exactly one of 20 parallel sign-ups with one email succeed and store one event', async () => {
    const email = `${uniqueHandle('same')}@example.com`;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.createUser(newUser({ email }))),
    );
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(created).toHaveLength(1);
    expect(
      results.every(
        (r) => r.status === 'fulfilled' || (r.reason instanceof DuplicateError && r.reason.field === 'email'),
      ),
    ).toBe(true);
    const docs = await users().find({ email }).toArray();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.outbox.events).toHaveLength(1);
  });

  it('should refuse operator objects as email, handle and ids: they match nobody and change nothing', async () => {
    const victim = await store.createUser(newUser());
    const before = await users().countDocuments({});
    for (const attempt of [{ $gt: '' }, { $ne: null }, { $regex: '.*' }, { $exists: true }]) {
      expect(await store.findByEmail(operator(attempt))).toBeNull();
      expect(await store.findByHandle(operator(attempt))).toBeNull();
      expect(await store.usersByIds([operator(attempt)])).toEqual([null]);
      expect(await store.updateProfile(operator(attempt), { displayName: 'owned' })).toBeNull();
      expect(await store.follow(operator(attempt), victim.id)).toBe('unknown-user');
      expect(await store.unfollow(victim.id, operator(attempt))).toBe('unknown-user');
      await expect(store.createUser(newUser({ email: operator(attempt) }))).rejects.toThrow();
    }
    // The same text as a string is just a string.
    expect(await store.findByEmail('{"$gt": ""}')).toBeNull();
    expect(await store.findByHandle('{"$gt": ""}')).toBeNull();
    const named = await store.updateProfile(victim.id, { displayName: '{"$set": {"email": "x"}}' });
    expect(named).toEqual({ ...victim, displayName: '{"$set": {"email": "x"}}' });
    expect(await users().countDocuments({})).toBe(before);
    expect((await store.usersByIds([victim.id]))[0]?.email).toBe(victim.email);
  });

  it('should refuse an operator in a filter of the sanitized connection', async () => {
    const User = connection.model('User');
    await store.createUser(newUser());
    // sanitizeFilter wraps it in $eq, which cannot be cast to the string path.
    await expect(User.findOne({ email: { $gt: '' } }).lean()).rejects.toThrow(/Cast/);
    await expect(User.findOne({ handle: { $ne: null } }).lean()).rejects.toThrow(/Cast/);
  });

  it('should keep follower counts equal to the edges under concurrent follows and unfollows', async () => {
    const people = await Promise.all(Array.from({ length: 8 }, () => store.createUser(newUser())));
    const pairs = people.flatMap((a) => people.filter((b) => b !== a).map((b) => [a.id, b.id] as const));
    // Every pair followed and unfollowed several times at once, in a shuffled order.
    const operations = pairs.flatMap(([a, b], i) =>
      Array.from(
        { length: 3 + (i % 3) },
        (_, k) => () => (k % 2 ? store.unfollow(a, b) : store.follow(a, b)),
      ),
    );
    operations.sort(() => Math.random() - 0.5);
    await Promise.all(operations.map((op) => op()));
    const edges = await follows().find({}).toArray();
    const ids = new Set(people.map((p) => p.id));
    const ours = edges.filter((e) => ids.has(e.followerId.toHexString()));
    const counted = await store.usersByIds(people.map((p) => p.id));
    for (const person of counted) {
      const following = ours.filter((e) => e.followerId.toHexString() === person!.id).length;
      const followers = ours.filter((e) => e.followeeId.toHexString() === person!.id).length;
      expect({ id: person!.id, following, followers }).toEqual({
        id: person!.id,
        following: person!.followingCount,
        followers: person!.followersCount,
      });
    }
  });

  it('should open again on a database that has users, finding them', async () => {
    const existing = await store.createUser(newUser());
    const second = await connectMongo(mongoUrl!, { dbName });
    try {
      const again = await MongoUsersStore.open(second);
      expect(await again.findByHandle(existing.handle)).toEqual(existing);
      await expect(again.createUser(newUser({ email: existing.email }))).rejects.toMatchObject({
        field: 'email',
      });
      expect(await again.ping()).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('should answer ping false once its connection is closed', async () => {
    const other = await connectMongo(mongoUrl!, { dbName });
    const closing = await MongoUsersStore.open(other);
    expect(await closing.ping()).toBe(true);
    await other.close();
    expect(await closing.ping()).toBe(false);
  });
});
