import { failSpan, type StoreClientMetrics, tracer, tracingEnabled } from '@fitness/server-kit';
import { SpanKind } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisClientOptions {
  /** What the service loses while Redis is down, for the one log line an outage gets. */
  whenDown: string;
  /** How loud that line is. @default 'warn' */
  level?: 'warn' | 'error';
  /** Per-command timeout. @default 1_000 */
  commandTimeoutMs?: number;
  /**
   * Queue commands while disconnected instead of failing them at once.
   * @default false
   */
  offlineQueue?: boolean;
}

/**
 * A Redis client for a store that must not hang when Redis does: one attempt per
 * command with a timeout, so callers fail fast (and fall back, retry or answer an
 * error as their domain requires), while reconnection goes on in the background
 * with capped backoff. An outage and its end are logged once each, not per retry.
 * Not connected yet: call `connect()` (a failed first attempt is logged, not thrown).
 */
export function createRedisClient(url: string, logger: Logger, options: RedisClientOptions): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: options.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  traceCommands(redis);
  let down = false;
  redis.on('ready', () => {
    if (down) logger.info('redis connection restored');
    down = false;
  });
  // Without a listener ioredis prints every failed reconnect to stderr.
  redis.on('error', (err) => {
    if (!down) logger[options.level ?? 'warn']({ err }, `redis unavailable: ${options.whenDown}`);
    down = true;
  });
  return redis;
}

/**
 * Reports a client to `metrics` (when given) as store_client_connected{store} and
 * store_client_commands{store,state}: whether it is ready, the commands awaiting
 * their reply, and those held in its offline queue; read at scrape time.
 */
export function observeRedis(metrics: StoreClientMetrics | undefined, store: string, redis: Redis): void {
  // The offline queue is not in ioredis' typings; it is a Deque with a length.
  const held = redis as unknown as { offlineQueue?: { length: number } };
  metrics?.storeClient(store, () => ({
    connected: redis.status === 'ready',
    inFlight: redis.commandQueue.length,
    queued: held.offlineQueue?.length ?? 0,
  }));
}

/** Connects, tolerating a first failure: the error listener logs it and reconnection goes on. */
export async function connectRedis(redis: Redis): Promise<Redis> {
  await redis.connect().catch(() => undefined);
  return redis;
}

/** /ready for a Redis-backed store: true when Redis answers PING, false on any failure. */
export async function pingRedis(redis: Redis): Promise<boolean> {
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/** Closes a client: QUIT when connected, else a plain disconnect (QUIT would wait for a reply that never comes). */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit();
  else redis.disconnect();
}

type SendCommand = Redis['sendCommand'];

/**
 * Every command of the client in a CLIENT span `redis <COMMAND>` (db.system,
 * db.operation.name; never the arguments, which hold keys and values), while
 * tracing; scripts show as EVALSHA. Costs one boolean check per command otherwise.
 */
export function traceCommands(redis: Redis): void {
  const send = redis.sendCommand.bind(redis) as SendCommand;
  redis.sendCommand = ((command, stream) => {
    if (!tracingEnabled()) return send(command, stream);
    const operation = command.name.toUpperCase();
    const span = tracer().startSpan(`redis ${operation}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system': 'redis', 'db.operation.name': operation },
    });
    const sent = send(command, stream);
    command.promise.then(
      () => span.end(),
      (error: unknown) => {
        failSpan(span, error);
        span.end();
      },
    );
    return sent;
  }) as SendCommand;
}
