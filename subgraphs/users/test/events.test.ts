import { randomBytes } from 'node:crypto';
import { createTokenIssuer, DEVELOPMENT_JWT_SECRET } from '@fitness/auth';
import { type Envelope, type EventBus, InProcessEventBus, MongoOutboxRelay } from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { assertSingleResult, errorCodes, realService } from '@fitness/testing';
import { type Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { MemoryRateLimiter } from '../src/datasources/MemoryRateLimiter.js';
import { MemoryUsersStore } from '../src/datasources/MemoryUsersStore.js';
import { MongoUsersStore } from '../src/datasources/MongoUsersStore.js';
import type { AccountSettings } from '../src/datasources/UsersDataSource.js';
import { DuplicateError, type UsersStore } from '../src/datasources/UsersStore.js';
import { MemoryOutbox } from '../src/events.js';
import { createUsersServer } from '../src/server.js';
import { SignInThrottle } from '../src/signInThrottle.js';
import { SignUpThrottle } from '../src/signUpThrottle.js';
import { connectMongo } from '../src/stores.js';

const logger = createLogger('users-events-test', 'silent');
const accounts: AccountSettings = {
  issueToken: createTokenIssuer({
    secret: DEVELOPMENT_JWT_SECRET,
    issuer: 'fitness-users',
    audience: 'fitness-api',
    ttlSeconds: 3600,
  }),
  defaultRegion: 'EU',
  signInThrottle: new SignInThrottle(new MemoryRateLimiter(), {
    maxFailuresPerAccount: 1_000,
    maxFailuresPerAddress: 1_000,
    windowSeconds: 900,
  }),
  signUpThrottle: new SignUpThrottle(new MemoryRateLimiter(), { maxPerAddress: 1_000, windowSeconds: 900 }),
};

const SIGN_UP =
  'mutation ($input: SignUpInput!) { signUp(input: $input) { user { id handle region createdAt } } }';

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const signUpInput = (region?: string) => {
  const tag = randomBytes(4).toString('hex');
  return {
    email: `ev-${tag}@example.com`,
    handle: `Ev${tag}`,
    displayName: 'Eve Event',
    password: 'correct horse battery',
    ...(region ? { region } : {}),
  };
};

/** A consumer on the bus that records every users.registered event. */
async function recordRegistrations(bus: EventBus) {
  const received: Envelope[] = [];
  const subscription = await bus.consume('users-events-test', {
    subjects: ['users.registered'],
    handler: async (event) => void received.push(event),
  });
  return { received, subscription };
}

describe('users.registered from the in-process store', () => {
  const server = createUsersServer(logger);
  const outbox = new MemoryOutbox();
  const store = new MemoryUsersStore(outbox);
  const bus = new InProcessEventBus();
  let publisher: ReturnType<MemoryOutbox['start']>;
  let received: Envelope[];
  let stopConsumer: () => Promise<void>;

  beforeAll(async () => {
    await server.start();
    publisher = outbox.start(bus, logger);
    const recorded = await recordRegistrations(bus);
    received = recorded.received;
    stopConsumer = () => recorded.subscription.stop();
  });
  afterAll(async () => {
    await publisher.stop();
    await stopConsumer();
    await bus.close();
    await server.stop();
  });

  const signUp = async (input: Record<string, unknown>, using: UsersStore = store) =>
    assertSingleResult<{
      signUp: { user: { id: string; handle: string; region: string; createdAt: string } };
    }>(
      (
        await server.executeOperation(
          { query: SIGN_UP, variables: { input } },
          { contextValue: createContext({ userId: null, region: null }, using, accounts, logger) },
        )
      ).body,
    );

  it('should publish one users.registered v1 event per sign-up, with handle, region and time', async () => {
    const result = await signUp(signUpInput('APAC'));
    expect(result.errors).toBeUndefined();
    const user = result.data!.signUp.user;
    await waitFor(
      () => received.some((e) => (e.payload as { userId: string }).userId === user.id),
      'the event',
    );
    const events = received.filter((e) => (e.payload as { userId: string }).userId === user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'users.registered', version: 1, producer: 'users' });
    expect(events[0]!.payload).toEqual({
      userId: user.id,
      handle: user.handle,
      region: 'APAC',
      occurredAt: user.createdAt,
    });
    expect(outbox.backlog).toBe(0);
  });

  it('should publish nothing for a sign-up refused as a duplicate', async () => {
    const input = signUpInput();
    await signUp(input);
    await waitFor(() => outbox.backlog === 0, 'the first event published');
    const before = received.length;
    const again = await signUp({ ...input, handle: `${input.handle}x` });
    expect(errorCodes(again)).toEqual(['CONFLICT']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received.length).toBe(before);
    expect(outbox.backlog).toBe(0);
  });

  it('should keep events in order through a bus outage and publish them when it is back', async () => {
    const local = new MemoryOutbox();
    const flaky = new InProcessEventBus();
    const { received: seen, subscription } = await recordRegistrations(flaky);
    let failing = true;
    const publish = flaky.publish.bind(flaky);
    flaky.publish = (event) => (failing ? Promise.reject(new Error('bus down')) : publish(event));
    const running = local.start(flaky, logger, { retryDelayMs: 10 });
    const localStore = new MemoryUsersStore(local);
    const first = await localStore.createUser({ ...signUpInput(), region: 'US', passwordHash: 'x' });
    const second = await localStore.createUser({ ...signUpInput(), region: 'EU', passwordHash: 'x' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(local.backlog).toBe(2);
    failing = false;
    await waitFor(() => seen.length === 2, 'both events after the outage');
    expect(seen.map((e) => (e.payload as { userId: string }).userId)).toEqual([first.id, second.id]);
    await running.stop();
    await subscription.stop();
    await flaky.close();
  });

  it('should write no event from a store without an outbox (tests and tools)', async () => {
    const plain = new MemoryUsersStore();
    await expect(
      plain.createUser({ ...signUpInput(), region: 'EU', passwordHash: 'x' }),
    ).resolves.toBeTruthy();
  });
});

const mongoUrl = realService('mongodb', 'users.registered through the Mongo outbox');

describe.skipIf(!mongoUrl)('users.registered through the Mongo outbox', () => {
  let connection: Connection;
  let store: MongoUsersStore;

  beforeAll(async () => {
    connection = await connectMongo(mongoUrl!, { dbName: `users_events_${randomBytes(4).toString('hex')}` });
    store = await MongoUsersStore.open(connection);
  });
  afterAll(async () => {
    await connection?.db?.dropDatabase();
    await connection?.close();
  });

  /** The raw user document, outbox fields included (the store never selects them). */
  const rawUser = (userId: string) =>
    connection.db!.collection('users').findOne({ _id: new Types.ObjectId(userId) });

  it('should write the event inside the user document, and none for a refused duplicate', async () => {
    const input = { ...signUpInput(), region: 'EU' as const, passwordHash: 'x' };
    input.email = input.email.toLowerCase();
    input.handle = input.handle.toLowerCase();
    const user = await store.createUser(input);
    const doc = await rawUser(user.id);
    expect(doc?.outbox.events).toHaveLength(1);
    expect(doc?.outbox.events[0]).toMatchObject({ type: 'users.registered', version: 1 });
    expect(doc?.outbox.events[0].envelope.payload).toEqual({
      userId: user.id,
      handle: user.handle,
      region: 'EU',
      occurredAt: user.createdAt.toISOString(),
    });
    // Claimable by the relay: no lease yet.
    expect(doc?.outbox.lease).toBeUndefined();
    await expect(store.createUser({ ...input, handle: `${input.handle}x` })).rejects.toBeInstanceOf(
      DuplicateError,
    );
    const pending = await connection.db!.collection('users').countDocuments({ outbox: { $exists: true } });
    expect(pending).toBe(1);
    // The store's reads never carry it.
    expect(await store.findByEmail(input.email)).toEqual({ user, passwordHash: 'x' });
  });

  it('should be published once by the relay, which then removes it from the user', async () => {
    const bus = new InProcessEventBus();
    const { received, subscription } = await recordRegistrations(bus);
    const user = await store.createUser({ ...signUpInput(), region: 'US', passwordHash: 'x' });
    const relay = new MongoOutboxRelay({ collection: store.outbox, bus, logger, pollIntervalMs: 20 });
    relay.start();
    await waitFor(async () => (await relay.backlog()) === 0, 'an empty outbox');
    await relay.stop();
    await subscription.stop();
    await bus.close();
    expect(received.filter((e) => (e.payload as { userId: string }).userId === user.id)).toHaveLength(1);
    const doc = await rawUser(user.id);
    expect(doc?.outbox).toBeUndefined();
    expect(doc?.handle).toBe(user.handle);
  });

  it('should publish one event per account of 40 concurrent sign-ups, 20 of them for one email', async () => {
    const bus = new InProcessEventBus();
    const { received, subscription } = await recordRegistrations(bus);
    const relays = [0, 1].map(
      () => new MongoOutboxRelay({ collection: store.outbox, bus, logger, pollIntervalMs: 5, batchSize: 5 }),
    );
    for (const relay of relays) relay.start();
    const shared = `${randomBytes(4).toString('hex')}@example.com`;
    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, () =>
        store.createUser({ ...signUpInput(), email: shared, region: 'EU', passwordHash: 'x' }),
      ),
      ...Array.from({ length: 20 }, () =>
        store.createUser({ ...signUpInput(), region: 'EU', passwordHash: 'x' }),
      ),
    ]);
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
    expect(created).toHaveLength(21);
    await waitFor(async () => (await relays[0]!.backlog()) === 0, 'an empty outbox');
    await Promise.all(relays.map((r) => r.stop()));
    await subscription.stop();
    await bus.close();
    const ids = received
      .map((e) => (e.payload as { userId: string }).userId)
      .filter((id) => created.includes(id));
    expect(ids.sort()).toEqual([...created].sort());
  });
});
