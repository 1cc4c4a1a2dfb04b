import { randomBytes } from 'node:crypto';
import { type Envelope, InProcessEventBus, MongoOutboxRelay } from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { waitFor } from '@fitness/testing';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOMBSTONE } from '../src/datasources/MongoUsersStore.js';
import type { UsersStore } from '../src/datasources/UsersStore.js';
import { userDeleted, userSignedOut } from '../src/events.js';
import { newUser, type OpenedStore, storeAdapters } from './adapters.js';

const UNKNOWN_ID = '0123456789abcdef01234567';
const logger = createLogger('users-deletion-test', 'silent');
const deletion = (userId: string) => userDeleted(userId, new Date(), 3600);

describe.each(storeAdapters('users account deletion'))('UsersStore deletion contract on $name', (adapter) => {
  const bus = new InProcessEventBus();
  const received: Envelope[] = [];
  let opened: OpenedStore;
  let store: UsersStore;

  beforeAll(async () => {
    await bus.consume(`deletion-${randomBytes(3).toString('hex')}`, {
      subjects: ['users.>'],
      handler: async (event) => void received.push(event),
    });
    opened = await adapter.open({ bus });
    store = opened.store;
  });
  afterAll(async () => {
    await opened.close();
    await bus.close();
  });

  const eventsOf = (userId: string) =>
    received.filter((e) => (e.payload as { userId: string }).userId === userId).map((e) => e.type);

  it('should erase the user from every read, free its email and handle, and emit users.deleted once', async () => {
    const input = newUser();
    const user = await store.createUser(input);
    const event = deletion(user.id);
    expect(await store.deleteUser(user.id, event)).toBe(true);
    expect(await store.usersByIds([user.id])).toEqual([null]);
    expect(await store.findByEmail(input.email)).toBeNull();
    expect(await store.findByHandle(input.handle)).toBeNull();
    expect(await store.updateProfile(user.id, { displayName: 'Back' })).toBeNull();
    // Deleted twice (a retry, a concurrent request): nothing more happens.
    expect(await store.deleteUser(user.id, deletion(user.id))).toBe(false);
    await waitFor(() => eventsOf(user.id).includes('users.deleted'), 'users.deleted');
    // users.registered was still pending when the account went: both go out, in order.
    expect(eventsOf(user.id)).toEqual(['users.registered', 'users.deleted']);
    expect(received.find((e) => e.id === event.id)?.payload).toEqual(event.payload);
    const again = await store.createUser({ ...newUser(), email: input.email, handle: input.handle });
    expect(again.id).not.toBe(user.id);
  });

  it.runIf(adapter.name === 'mongodb')(
    'should keep only a tombstone with the pending events, deleted by the relay once they are out',
    async () => {
      const quiet = await adapter.open(); // no relay yet: the tombstone stays to be looked at
      const user = await quiet.store.createUser(newUser());
      await quiet.store.deleteUser(user.id, deletion(user.id));
      const documents = quiet.documents!;
      const _id = new Types.ObjectId(user.id);
      const { deletedAt, email, handle, outbox, __v, ...rest } = (await documents.findOne({ _id }))!;
      expect(rest).toEqual({ _id });
      expect([email, handle]).toEqual([`deleted:${user.id}`, `deleted:${user.id}`]);
      expect(deletedAt).toBeInstanceOf(Date);
      expect(outbox.events.map((e: { type: string }) => e.type)).toEqual([
        'users.registered',
        'users.deleted',
      ]);
      const relay = new MongoOutboxRelay({
        collection: documents,
        bus,
        logger,
        pollIntervalMs: 20,
        removeWhenPublished: TOMBSTONE,
      });
      relay.start();
      await waitFor(async () => (await documents.countDocuments({ _id })) === 0, 'the tombstone to go');
      await relay.stop();
      await quiet.close();
      expect(eventsOf(user.id)).toEqual(['users.registered', 'users.deleted']);
    },
  );

  it("should remove the user's follows and move each other user's count once, also when repeated", async () => {
    const [gone, a, b] = await Promise.all([1, 2, 3].map(() => store.createUser(newUser())));
    await store.follow(gone!.id, a!.id);
    await store.follow(gone!.id, b!.id);
    await store.follow(a!.id, gone!.id);
    await store.follow(a!.id, b!.id);
    await store.deleteUser(gone!.id, deletion(gone!.id));
    expect(await store.followIdsWithoutUser()).toEqual([gone!.id]);
    const removed = await Promise.all([store.removeFollows(gone!.id), store.removeFollows(gone!.id)]);
    expect(removed[0]! + removed[1]!).toBe(3);
    expect(await store.removeFollows(gone!.id)).toBe(0);
    const [afterA, afterB] = await store.usersByIds([a!.id, b!.id]);
    expect(afterA).toMatchObject({ followersCount: 0, followingCount: 1 });
    expect(afterB).toMatchObject({ followersCount: 1, followingCount: 0 });
    expect(await store.followIdsWithoutUser()).toEqual([]);
    expect(await store.follow(a!.id, gone!.id)).toBe('unknown-user');
  });

  it('should record a signOutEverywhere with its event, and nothing for an unknown user', async () => {
    const user = await store.createUser(newUser());
    const at = new Date();
    expect(await store.signOutEverywhere(user.id, at, userSignedOut(user.id, at, 3600))).toBe(true);
    expect(await store.signOutEverywhere(UNKNOWN_ID, at, userSignedOut(UNKNOWN_ID, at, 3600))).toBe(false);
    expect(await store.signOutEverywhere('not-an-id', at, userSignedOut('not-an-id', at, 3600))).toBe(false);
    await waitFor(() => eventsOf(user.id).includes('users.signed_out'), 'users.signed_out');
    expect((await store.usersByIds([user.id]))[0]).toMatchObject({ id: user.id });
  });

  it('should emit users.deleted for an id that names nobody, and never for a user', async () => {
    const missing = `${randomBytes(12).toString('hex')}`;
    expect(await store.emitForMissingUser(missing, deletion(missing))).toBe(true);
    expect(await store.emitForMissingUser('u-42', deletion('u-42'))).toBe(true);
    const user = await store.createUser(newUser());
    expect(await store.emitForMissingUser(user.id, deletion(user.id))).toBe(false);
    await waitFor(
      () => eventsOf(missing).includes('users.deleted') && eventsOf('u-42').includes('users.deleted'),
      'both events',
    );
    expect(await store.usersByIds([user.id, missing])).toEqual([
      expect.objectContaining({ id: user.id }),
      null,
    ]);
    expect(eventsOf(user.id)).toEqual(['users.registered']);
  });
});
