import { EventEmitter } from 'node:events';
import { observeRedis } from '@fitness/redis-kit';
import type { StoreClientMetrics } from '@fitness/server-kit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type NoticeListener = (boardIds: string[]) => void;

/**
 * "These boards changed", from the one replica whose consumer applied an event
 * to every replica's subscription manager. Notices carry board ids only, never
 * content: each replica re-reads the boards it has subscribers for, so a lost or
 * duplicated notice costs a stale or an extra read, never a wrong snapshot.
 */
export interface BoardNotices {
  publish(boardIds: readonly string[]): Promise<void>;
  /** Starts delivering notices to the listener; resolves once listening. */
  listen(listener: NoticeListener): Promise<void>;
  close(): Promise<void>;
}

/** Single-instance mode: notices stay in this process. */
export class MemoryBoardNotices implements BoardNotices {
  private readonly emitter = new EventEmitter();

  async publish(boardIds: readonly string[]): Promise<void> {
    this.emitter.emit('changed', [...boardIds]);
  }

  async listen(listener: NoticeListener): Promise<void> {
    this.emitter.on('changed', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * Redis pub/sub on one channel. Publishing uses the command connection; listening
 * needs a connection of its own (a subscribed connection can run nothing else),
 * which ioredis re-subscribes after a reconnect.
 */
export class RedisBoardNotices implements BoardNotices {
  private readonly channel: string;
  private subscriber: Redis | undefined;

  private readonly metrics: StoreClientMetrics | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    /** `metrics`: where the listening connection is reported (store `leaderboard_notices`). */
    options: { keyPrefix?: string; metrics?: StoreClientMetrics | undefined } = {},
  ) {
    this.channel = `${options.keyPrefix ?? ''}{lb}:changed`;
    this.metrics = options.metrics;
  }

  async publish(boardIds: readonly string[]): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(boardIds));
  }

  async listen(listener: NoticeListener): Promise<void> {
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    this.subscriber = subscriber;
    subscriber.on('error', (err) => this.logger.debug({ err }, 'leaderboard notice connection error'));
    observeRedis(this.metrics, 'leaderboard_notices', subscriber);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let ids: unknown;
      try {
        ids = JSON.parse(message);
      } catch {
        ids = undefined;
      }
      if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) listener(ids);
      else this.logger.warn({ channel }, 'ignoring a malformed leaderboard notice');
    });
    if (subscriber.status === 'wait') await subscriber.connect();
    await subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    if (subscriber.status === 'ready') await subscriber.quit().catch(() => subscriber.disconnect());
    else subscriber.disconnect();
  }
}
