import { join } from 'node:path';
import { type EventBus, MongoOutboxRelay } from '@fitness/events';
import { createRedisClient, observeRedis } from '@fitness/redis-kit';
import {
  type Logger,
  mongoConnectionPool,
  type ServiceMetrics,
  traceMongoCommands,
  tracingEnabled,
} from '@fitness/server-kit';
import { DryMongoBinary, MongoMemoryServer } from 'mongodb-memory-server-core';
import mongoose from 'mongoose';
import { MemoryRateLimiter } from './datasources/MemoryRateLimiter.js';
import { MemoryUsersStore } from './datasources/MemoryUsersStore.js';
import { MongoUsersStore, TOMBSTONE } from './datasources/MongoUsersStore.js';
import type { RateLimiter } from './datasources/RateLimiter.js';
import { RedisRateLimiter } from './datasources/RedisRateLimiter.js';
import type { UsersStore } from './datasources/UsersStore.js';
import { MemoryOutbox, type OutboxPublisher } from './events.js';

export interface UsersStores {
  /** Which adapter serves: 'mongodb', 'mongodb-memory-server' or 'memory'. */
  kind: 'mongodb' | 'mongodb-memory-server' | 'memory';
  store: UsersStore;
  ready(): Promise<boolean>;
  /** Starts publishing the store's outbox (users.registered) to the bus; stop it before close(). */
  publishEvents(bus: EventBus, logger: Logger): OutboxPublisher;
  close(): Promise<void>;
}

/**
 * How long to wait for an embedded mongod, from a binary already on the machine
 * (none is downloaded at start-up); past it the service falls back to the
 * in-process store rather than hang.
 * @default 5_000
 */
export const EMBEDDED_MONGO_TIMEOUT_MS = 5_000;

/**
 * Opens a mongoose connection whose filters are sanitized: a nested object with
 * `$` keys in a filter value is wrapped in `$eq`, so no client value can become
 * a query operator. The store marks its own operators with `mongoose.trusted`.
 * With `metrics`, its pool is store_pool_connections and store_pool_wait_seconds
 * {store="users"}.
 */
export async function connectMongo(
  url: string,
  { metrics, ...options }: { dbName?: string; metrics?: ServiceMetrics | undefined } = {},
) {
  const tracing = tracingEnabled();
  const connection = mongoose.createConnection(url, {
    sanitizeFilter: true,
    serverSelectionTimeoutMS: 5_000,
    appName: 'users',
    // While tracing, every command is a span (the driver's command monitoring).
    ...(tracing ? { monitorCommands: true } : {}),
    ...options,
  });
  // The client exists before it connects: its first connection is counted too.
  if (metrics)
    metrics.storePool('users', mongoConnectionPool(connection.getClient(), metrics.storePoolWaits('users')));
  const connected = await connection.asPromise();
  if (tracing) traceMongoCommands(connected.getClient());
  return connected;
}

async function startEmbeddedMongo(timeoutMs: number): Promise<MongoMemoryServer> {
  const deadline = Date.now() + timeoutMs;
  const within = async <T>(work: Promise<T>, what: string, onLate: (late: T) => void): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} within ${timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      work.then(onLate).catch(() => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
  // Only a mongod already on this machine (mongodb-memory-server's cache, or
  // MONGOMS_SYSTEM_BINARY): no download at start-up. A download either takes far
  // longer than a start should, or, where it cannot succeed, costs the whole time-out
  // on every start and ends in a stack trace printed by the library.
  const systemBinary = await within(
    DryMongoBinary.generateOptions().then((options) => DryMongoBinary.locateBinary(options)),
    'no mongod binary located',
    () => {},
  );
  if (!systemBinary) throw new Error('no mongod binary on this machine (none is downloaded at start-up)');
  // A mongod that comes up after we gave up must not outlive us.
  return within(
    MongoMemoryServer.create({ binary: { systemBinary } }),
    'no embedded mongod started',
    (late) => {
      late.stop().catch(() => {});
    },
  );
}

async function openMongo(
  url: string,
  kind: 'mongodb' | 'mongodb-memory-server',
  metrics: ServiceMetrics | undefined,
  stopEmbedded: () => Promise<unknown> = async () => {},
): Promise<UsersStores> {
  const connection = await connectMongo(url, { metrics });
  try {
    const store = await MongoUsersStore.open(connection);
    return {
      kind,
      store,
      ready: () => store.ping(),
      publishEvents: (bus, logger) => publishMongoOutbox(store, bus, logger),
      async close() {
        await connection.close();
        await stopEmbedded();
      },
    };
  } catch (error) {
    await connection.close();
    await stopEmbedded();
    throw error;
  }
}

/**
 * The relay of the events users' documents carry (users.registered, users.signed_out,
 * users.deleted); a deleted user's tombstone goes once its events are out.
 */
function publishMongoOutbox(store: MongoUsersStore, bus: EventBus, logger: Logger): OutboxPublisher {
  const relay = new MongoOutboxRelay({
    collection: store.outbox,
    bus,
    logger,
    removeWhenPublished: TOMBSTONE,
  });
  relay.start();
  return { stop: () => relay.stop(), observe: (metrics) => relay.observe(metrics) };
}

/**
 * MONGODB_URL set: that server, and a failure to reach it fails start-up. Unset:
 * an embedded mongod if one can be had within `embeddedTimeoutMs`, else the
 * in-process store, with a loud warning since its data dies with the process
 * and it cannot be shared by replicas.
 */
export async function openStores(
  config: { mongodbUrl: string | undefined; embeddedTimeoutMs?: number; dataDir?: string },
  logger: Logger,
  metrics?: ServiceMetrics,
): Promise<UsersStores> {
  if (config.mongodbUrl) return openMongo(config.mongodbUrl, 'mongodb', metrics);
  let embedded: MongoMemoryServer;
  try {
    embedded = await startEmbeddedMongo(config.embeddedTimeoutMs ?? EMBEDDED_MONGO_TIMEOUT_MS);
  } catch (err) {
    const snapshotPath =
      config.dataDir && !config.dataDir.startsWith('memory://')
        ? join(config.dataDir, 'users.json')
        : undefined;
    logger.warn(
      { reason: (err as Error).message, snapshotPath },
      'MONGODB_URL is unset and no embedded mongod could be started: using the IN-PROCESS users store ' +
        '(development only: one replica, accounts kept only in a local snapshot file). Set MONGODB_URL for real use.',
    );
    const outbox = new MemoryOutbox();
    const store = new MemoryUsersStore(outbox, snapshotPath);
    return {
      kind: 'memory',
      store,
      ready: () => store.ping(),
      publishEvents: (bus, logger) => outbox.start(bus, logger),
      close: async () => store.save(),
    };
  }
  logger.warn({ uri: embedded.getUri() }, 'MONGODB_URL is unset: using an embedded, throwaway mongod');
  return openMongo(embedded.getUri(), 'mongodb-memory-server', metrics, () => embedded.stop());
}

/**
 * The sign-in throttling counters: Redis when REDIS_URL is set, shared by every
 * replica; else in process. With Redis down, signIn fails (masked as an internal
 * error) rather than running unthrottled: an outage must not switch brute-force
 * protection off. No offline queue and one try per command, so it fails fast
 * instead of hanging; /ready reports it, and reconnection goes on in the background.
 */
export async function openRateLimiter(
  config: { redisUrl: string | undefined },
  logger: Logger,
  metrics?: ServiceMetrics,
): Promise<RateLimiter> {
  if (!config.redisUrl) {
    logger.warn('REDIS_URL is unset: sign-in throttling counts in process (not shared between replicas)');
    return new MemoryRateLimiter();
  }
  const redis = createRedisClient(config.redisUrl, logger, {
    whenDown: 'signIn fails until it is back',
    level: 'error',
  });
  observeRedis(metrics, 'throttle', redis);
  await redis.connect().catch(() => undefined);
  return new RedisRateLimiter(redis);
}

/** Everything the users service runs on: its store and the sign-in throttle's counters. */
export interface UsersServiceStores extends UsersStores {
  limiter: RateLimiter;
}

/**
 * openRateLimiter, then openStores, both reporting to `metrics` (the Mongo pool, the
 * throttle's Redis client); close() closes both, the store first.
 */
export async function openServiceStores(
  config: Parameters<typeof openStores>[0] & Parameters<typeof openRateLimiter>[0],
  logger: Logger,
  metrics?: ServiceMetrics,
): Promise<UsersServiceStores> {
  const limiter = await openRateLimiter(config, logger, metrics);
  let stores: UsersStores;
  try {
    stores = await openStores(config, logger, metrics);
  } catch (error) {
    await limiter.close();
    throw error;
  }
  return {
    ...stores,
    limiter,
    async close() {
      await stores.close();
      await limiter.close();
    },
  };
}
