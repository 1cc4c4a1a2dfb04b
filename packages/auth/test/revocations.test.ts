import { createEnvelope, InProcessEventBus, usersDeletedEvent } from '@fitness/events';
import { createLogger } from '@fitness/server-kit';
import { freePort, realService, uniquePrefix, waitFor } from '@fitness/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTokenIssuer,
  createTokenVerifier,
  MemoryRevocationList,
  RedisRevocationList,
  type Revocation,
  type RevocationList,
  startRevocationFeed,
  subgraphAuth,
} from '../src/index.js';

const logger = createLogger('revocations-test', 'silent');
const redisUrl = realService('redis', 'token revocations');
const DAY = 24 * 3600_000;

interface Adapter {
  name: string;
  /** Two handles on one list: two processes sharing Redis, or the same in-process list twice. */
  open(): { a: RevocationList; b: RevocationList };
}

const opened: RevocationList[] = [];
const adapters: Adapter[] = [
  {
    name: 'in-process',
    open() {
      const list = new MemoryRevocationList();
      opened.push(list);
      return { a: list, b: list };
    },
  },
];
if (redisUrl) {
  adapters.push({
    name: 'redis',
    open() {
      const keyPrefix = uniquePrefix('revocations');
      const [a, b] = [0, 1].map(
        () =>
          new RedisRevocationList(new Redis(redisUrl, { maxRetriesPerRequest: 1 }), { keyPrefix, logger }),
      ) as [RedisRevocationList, RedisRevocationList];
      opened.push(a, b);
      return { a, b };
    },
  });
}

afterAll(async () => {
  for (const list of opened) await list.close();
});

const at = (ms: number) => new Date(ms);

describe.each(adapters)('RevocationList contract on $name', (adapter) => {
  it('should refuse tokens issued up to the cutoff and accept those issued after it', async () => {
    const { a, b } = adapter.open();
    const cutoff = Date.now();
    await a.revoke({ userId: 'u1', issuedBefore: at(cutoff), until: at(cutoff + DAY) });
    expect(await b.isRevoked('u1', at(cutoff - 5_000))).toBe(true);
    expect(await b.isRevoked('u1', at(cutoff))).toBe(true);
    expect(await b.isRevoked('u1', at(cutoff + 1))).toBe(false);
    expect(await b.isRevoked('u2', at(cutoff - 5_000))).toBe(false);
  });

  it('should only ever widen: an earlier cutoff after a later one, or any after "every token", changes nothing', async () => {
    const { a, b } = adapter.open();
    const t = Date.now();
    await a.revoke({ userId: 'u1', issuedBefore: at(t), until: at(t + DAY) });
    await a.revoke({ userId: 'u1', issuedBefore: at(t - 60_000), until: at(t + DAY) });
    expect(await b.isRevoked('u1', at(t - 1_000))).toBe(true);
    await a.revoke({ userId: 'u1', issuedBefore: null, until: at(t + DAY) });
    await a.revoke({ userId: 'u1', issuedBefore: at(t), until: at(t + DAY) });
    expect(await b.isRevoked('u1', at(t + DAY - 1))).toBe(true);
  });

  it('should forget a revocation once every token it refuses has expired', async () => {
    const { a, b } = adapter.open();
    const t = Date.now();
    await a.revoke({ userId: 'u1', issuedBefore: null, until: at(t + 200) });
    expect(await b.isRevoked('u1', at(t))).toBe(true);
    await waitFor(async () => !(await b.isRevoked('u1', at(t))), 'the revocation to expire');
    // A revocation that is already over is not recorded at all.
    await a.revoke({ userId: 'u2', issuedBefore: null, until: at(t - 1) });
    expect(await b.isRevoked('u2', at(t))).toBe(false);
  });

  it('should tell listeners, also in another process, of every revocation that widened the list', async () => {
    const { a, b } = adapter.open();
    const heard: Revocation[] = [];
    const stop = b.onRevoked((revocation) => heard.push(revocation));
    // Redis: the subscription is live once a revocation made after it arrives.
    const t = Date.now();
    await waitFor(async () => {
      await a.revoke({ userId: 'probe', issuedBefore: at(Date.now()), until: at(t + DAY) });
      return heard.length > 0;
    }, 'the subscription');
    heard.length = 0;
    await a.revoke({ userId: 'u1', issuedBefore: null, until: at(t + DAY) });
    await waitFor(() => heard.some((r) => r.userId === 'u1'), 'the revocation of u1');
    expect(heard.find((r) => r.userId === 'u1')).toEqual({
      userId: 'u1',
      issuedBefore: null,
      until: at(t + DAY),
    });
    stop();
  });
});

describe.skipIf(!redisUrl)('RedisRevocationList while Redis is unreachable', () => {
  it('should refuse what it has seen itself and accept the rest, without failing requests', async () => {
    const port = await freePort();
    const unreachable = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    unreachable.on('error', () => undefined);
    const list = new RedisRevocationList(unreachable, { logger });
    opened.push(list);
    const t = Date.now();
    await expect(list.revoke({ userId: 'u1', issuedBefore: null, until: at(t + DAY) })).rejects.toThrow();
    expect(await list.isRevoked('u1', at(t))).toBe(true);
    expect(await list.isRevoked('u2', at(t))).toBe(false);
  });
});

describe('revocation in token verification', () => {
  const settings = { secret: 'a-test-secret-that-is-long-enough-123', issuer: 'i', audience: 'a' };
  const issue = createTokenIssuer({ ...settings, ttlSeconds: 3600 });

  it('should refuse a revoked token after its signature checks out, and keep the milliseconds of iat', async () => {
    const revocations = new MemoryRevocationList();
    const verify = createTokenVerifier(settings, { revocations });
    const issuedAt = new Date(Date.now() - 1_000);
    const before = await issue('u1', issuedAt);
    expect((await verify(before.token)).issuedAt.getTime()).toBe(issuedAt.getTime());
    await revocations.revoke({ userId: 'u1', issuedBefore: new Date(), until: before.expiresAt });
    await expect(verify(before.token)).rejects.toThrow('Token has been revoked.');
    // Issued after the cutoff, even within the same second: accepted.
    const after = await issue('u1', new Date(Date.now() + 1));
    expect((await verify(after.token)).userId).toBe('u1');
    // A forged token is refused for its signature, before any revocation is looked up.
    const looked: string[] = [];
    const spying = createTokenVerifier(settings, {
      revocations: Object.assign(new MemoryRevocationList(), {
        isRevoked: async (userId: string) => {
          looked.push(userId);
          return false;
        },
      }),
    });
    const [h, p] = before.token.split('.');
    await expect(spying(`${h}.${p}.forged`)).rejects.toThrow('Token is invalid.');
    expect(looked).toEqual([]);
  });
});

describe('revocation feed', () => {
  it('should revoke from users.deleted and users.signed_out, and a replayed event changes nothing', async () => {
    const bus = new InProcessEventBus();
    const revocations = new MemoryRevocationList();
    const heard: Revocation[] = [];
    revocations.onRevoked((r) => heard.push(r));
    const feed = await startRevocationFeed({ bus, revocations, service: 'test' });
    const t = Date.now();
    const expireBy = new Date(t + DAY).toISOString();
    const deleted = createEnvelope(
      'users.deleted',
      1,
      { userId: 'gone', occurredAt: new Date(t).toISOString(), tokensExpireBy: expireBy },
      { producer: 'users' },
    );
    const signedOut = createEnvelope(
      'users.signed_out',
      1,
      { userId: 'out', issuedBefore: new Date(t).toISOString(), tokensExpireBy: expireBy },
      { producer: 'users' },
    );
    await bus.publish(deleted);
    await bus.publish(signedOut);
    await waitFor(async () => (await feed.metrics()).processed === 2, 'both events');
    expect(await revocations.isRevoked('gone', new Date(t + 60_000))).toBe(true);
    expect(await revocations.isRevoked('out', new Date(t))).toBe(true);
    expect(await revocations.isRevoked('out', new Date(t + 1))).toBe(false);
    // The same event again (a redelivery, a repair): counted as a duplicate, nothing widens.
    await bus.publish({ ...deleted });
    const replay = createEnvelope('users.deleted', 1, deleted.payload, { producer: 'users' });
    await bus.publish(replay);
    await waitFor(async () => (await feed.metrics()).processed === 3, 'the replay');
    expect(heard.map((r) => r.userId)).toEqual(['gone', 'out']);
    await feed.stop();
    await bus.close();
  });
});

describe('subgraphAuth', () => {
  it("should answer UNAUTHENTICATED for a token once the events revoke it, through this service's own feed", async () => {
    const bus = new InProcessEventBus();
    const tokens = { secret: 'a-test-secret-that-is-long-enough-123', issuer: 'i', audience: 'a' };
    const auth = await subgraphAuth({
      config: { tokens: { ...tokens, usingDevSecret: false } },
      logger,
      bus,
      service: 'test',
    });
    const { token, expiresAt } = await createTokenIssuer({ ...tokens, ttlSeconds: 3600 })('u1');
    const request = { headers: { authorization: `Bearer ${token}` } } as never;
    expect((await auth.authenticate(request)).userId).toBe('u1');
    await bus.publish(usersDeletedEvent('u1', { tokensExpireBy: expiresAt }));
    await waitFor(
      () =>
        auth.authenticate(request).then(
          () => false,
          (error: { extensions?: { code?: string } }) => error.extensions?.code === 'UNAUTHENTICATED',
        ),
      'the token to be refused',
    );
    await auth.stop();
    await bus.close();
  });
});
