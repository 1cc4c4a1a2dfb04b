import type { ChildProcess } from 'node:child_process';
import {
  type BusHealth,
  type ConsumeOptions,
  type ConsumerState,
  type DeadLetter,
  type DeliveryContext,
  type EventBus,
  NonRetryableError,
  type PublishResult,
  type Subscription,
  type SubscriptionStats,
} from './bus.js';
import { type Envelope, EnvelopeError, type EnvelopeProblem } from './envelope.js';
import type { InProcessEventBus } from './inProcessBus.js';

/**
 * One bus for every service of `pnpm start` without NATS: the launcher hosts an
 * in-process bus (the hub) and each service reaches it over its IPC channel, so
 * events cross services (workouts -> leaderboards, recommendations; users ->
 * everyone) on a bare machine too. Same port, same semantics as the in-process bus:
 * durable named consumers, dedupe by event id, retries, dead letters; NATS stays the
 * production bus. A service that dies leaves its unacknowledged deliveries to be
 * redelivered when it consumes again.
 */

/** What carries the messages: a child process from the hub's side, `process` from the service's. */
export interface Channel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onClose(listener: () => void): void;
  connected(): boolean;
}

/** The IPC channel of a child process (hub side) or of this process (service side). */
export function processChannel(target: ChildProcess | NodeJS.Process): Channel {
  const proc = target as ChildProcess & NodeJS.Process;
  return {
    send(message) {
      if (proc.connected) proc.send?.(message as never);
    },
    onMessage(listener) {
      proc.on('message', listener);
    },
    onClose(listener) {
      proc.once('disconnect', listener);
    },
    connected: () => proc.connected === true,
  };
}

type WireError = { message: string; envelope?: EnvelopeProblem; nonRetryable?: boolean };

type ToHub =
  | { bus: 'publish'; id: number; envelope: Envelope }
  | {
      bus: 'consume';
      id: number;
      name: string;
      subjects: string[];
      maxDeliver?: number;
      backoff?: number[];
      concurrency?: number;
    }
  | { bus: 'stop'; id: number; name: string }
  | { bus: 'handled'; delivery: number; error?: WireError }
  | { bus: 'deadLetters'; id: number; consumer: string; limit?: number }
  | { bus: 'consumerState'; id: number; name: string };

type ToService =
  | { bus: 'reply'; id: number; value?: unknown; error?: WireError }
  | { bus: 'deliver'; delivery: number; name: string; event: Envelope; context: DeliveryContext }
  | { bus: 'stats'; name: string; stats: SubscriptionStats };

const isBusMessage = (m: unknown): m is { bus: string } =>
  typeof m === 'object' && m !== null && typeof (m as { bus?: unknown }).bus === 'string';

const wireError = (error: unknown): WireError => ({
  message: error instanceof Error ? error.message : String(error),
  ...(error instanceof EnvelopeError ? { envelope: error.problem } : {}),
  ...(error instanceof NonRetryableError ? { nonRetryable: true } : {}),
});

const fromWire = (error: WireError): Error =>
  error.envelope
    ? new EnvelopeError(error.envelope, error.message)
    : error.nonRetryable
      ? new NonRetryableError(error.message)
      : new Error(error.message);

/** The launcher's side: serves one in-process bus to every attached service. */
export class EventHub {
  constructor(readonly bus: InProcessEventBus) {}

  /** Serves one service over its channel until the channel closes. */
  attach(channel: Channel): void {
    const subscriptions = new Map<string, Subscription>();
    const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();
    let nextDelivery = 0;
    let closed = false;
    const reply = (id: number, work: () => Promise<unknown>) => {
      work().then(
        (value) => channel.send({ bus: 'reply', id, value } satisfies ToService),
        (error: unknown) => channel.send({ bus: 'reply', id, error: wireError(error) } satisfies ToService),
      );
    };
    // Stats change without a handler running (a poison message dead-lettered): pushed while they change.
    const last = new Map<string, string>();
    const pushStats = () => {
      for (const [name, sub] of subscriptions) {
        const stats = sub.stats();
        const text = JSON.stringify(stats);
        if (last.get(name) === text) continue;
        last.set(name, text);
        channel.send({ bus: 'stats', name, stats } satisfies ToService);
      }
    };
    const ticker = setInterval(pushStats, 25);
    ticker.unref();

    channel.onMessage((raw) => {
      if (!isBusMessage(raw) || closed) return;
      const message = raw as ToHub;
      switch (message.bus) {
        case 'publish':
          reply(message.id, () => this.bus.publish(message.envelope));
          return;
        case 'consume':
          reply(message.id, async () => {
            const sub = await this.bus.consume(message.name, {
              subjects: message.subjects,
              ...(message.maxDeliver !== undefined ? { maxDeliver: message.maxDeliver } : {}),
              ...(message.backoff ? { backoff: message.backoff } : {}),
              ...(message.concurrency ? { concurrency: message.concurrency } : {}),
              handler: (event, context) =>
                new Promise<void>((resolve, reject) => {
                  if (closed) {
                    reject(new Error('the service is gone'));
                    return;
                  }
                  nextDelivery += 1;
                  waiting.set(nextDelivery, { resolve, reject });
                  channel.send({
                    bus: 'deliver',
                    delivery: nextDelivery,
                    name: message.name,
                    event,
                    context,
                  } satisfies ToService);
                }).finally(pushStats),
            });
            subscriptions.set(message.name, sub);
          });
          return;
        case 'stop':
          reply(message.id, async () => {
            const sub = subscriptions.get(message.name);
            await sub?.stop();
            // The final counts reach the service before the reply to its stop does.
            pushStats();
            subscriptions.delete(message.name);
            last.delete(message.name);
          });
          return;
        case 'handled': {
          const pending = waiting.get(message.delivery);
          waiting.delete(message.delivery);
          if (message.error) pending?.reject(fromWire(message.error));
          else pending?.resolve();
          return;
        }
        case 'deadLetters':
          reply(message.id, () =>
            this.bus.deadLetters(
              message.consumer,
              message.limit !== undefined ? { limit: message.limit } : {},
            ),
          );
          return;
        case 'consumerState':
          reply(message.id, () => this.bus.consumerState(message.name));
          return;
      }
    });

    channel.onClose(() => {
      closed = true;
      clearInterval(ticker);
      // What the service was handling goes back to the bus, for its next run.
      for (const pending of waiting.values()) pending.reject(new Error('the service is gone'));
      waiting.clear();
      for (const sub of subscriptions.values()) sub.stop().catch(() => undefined);
      subscriptions.clear();
    });
  }
}

/** A service's side: the EventBus port, answered by the hub over `channel`. */
export class IpcEventBus implements EventBus {
  private nextId = 0;
  private readonly replies = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly handlers = new Map<string, ConsumeOptions['handler']>();
  private readonly stats = new Map<string, SubscriptionStats>();
  private readonly inFlight = new Map<string, number>();
  private closed = false;

  constructor(private readonly channel: Channel) {
    channel.onMessage((raw) => {
      if (!isBusMessage(raw)) return;
      const message = raw as ToService;
      if (message.bus === 'reply') {
        const pending = this.replies.get(message.id);
        this.replies.delete(message.id);
        if (message.error) pending?.reject(fromWire(message.error));
        else pending?.resolve(message.value);
      } else if (message.bus === 'stats') {
        this.stats.set(message.name, message.stats);
      } else if (message.bus === 'deliver') {
        void this.deliver(message);
      }
    });
    channel.onClose(() => {
      for (const pending of this.replies.values()) pending.reject(new Error('the event hub is gone'));
      this.replies.clear();
    });
  }

  private call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.closed || !this.channel.connected())
      return Promise.reject(new Error('the event hub is not connected'));
    this.nextId += 1;
    const id = this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.replies.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.channel.send({ ...message, id });
    });
  }

  private async deliver(message: Extract<ToService, { bus: 'deliver' }>): Promise<void> {
    const handler = this.handlers.get(message.name);
    if (!handler) {
      this.channel.send({ bus: 'handled', delivery: message.delivery, error: { message: 'not consuming' } });
      return;
    }
    this.inFlight.set(message.name, (this.inFlight.get(message.name) ?? 0) + 1);
    try {
      await handler(message.event, message.context);
      this.channel.send({ bus: 'handled', delivery: message.delivery } satisfies ToHub);
    } catch (error) {
      this.channel.send({
        bus: 'handled',
        delivery: message.delivery,
        error: wireError(error),
      } satisfies ToHub);
    } finally {
      this.inFlight.set(message.name, (this.inFlight.get(message.name) ?? 1) - 1);
    }
  }

  async publish(envelope: Envelope): Promise<PublishResult> {
    return this.call<PublishResult>({ bus: 'publish', envelope });
  }

  async consume(name: string, options: ConsumeOptions): Promise<Subscription> {
    this.handlers.set(name, options.handler);
    await this.call({
      bus: 'consume',
      name,
      subjects: options.subjects,
      ...(options.maxDeliver !== undefined ? { maxDeliver: options.maxDeliver } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    });
    const zero: SubscriptionStats = { delivered: 0, acked: 0, retried: 0, deadLettered: 0, inFlight: 0 };
    return {
      name,
      stop: async () => {
        await this.call({ bus: 'stop', name }).catch(() => undefined);
        this.handlers.delete(name);
      },
      stats: () => ({ ...zero, ...this.stats.get(name), inFlight: this.inFlight.get(name) ?? 0 }),
    };
  }

  deadLetters(consumer: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.call<DeadLetter[]>({
      bus: 'deadLetters',
      consumer,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
  }

  consumerState(name: string): Promise<ConsumerState | null> {
    return this.call<ConsumerState | null>({ bus: 'consumerState', name });
  }

  ready(): boolean {
    return !this.closed && this.channel.connected();
  }

  async health(): Promise<BusHealth> {
    return {
      ready: this.ready(),
      adapter: 'ipc',
      detail: this.ready() ? 'launcher event hub' : 'disconnected',
    };
  }

  async close(): Promise<void> {
    for (const name of [...this.handlers.keys()])
      await this.call({ bus: 'stop', name }).catch(() => undefined);
    this.handlers.clear();
    this.closed = true;
  }
}
