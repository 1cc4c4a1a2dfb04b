import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { headers, type NatsConnection, nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import {
  assertConsumerName,
  type BusHealth,
  backoffDelay,
  type ConsumeOptions,
  type ConsumerState,
  DEFAULT_DUPLICATE_WINDOW_MS,
  type DeadLetter,
  type EventBus,
  errorMessage,
  InFlight,
  NonRetryableError,
  normalizeConsumeOptions,
  type PublishResult,
  type Subscription,
  type SubscriptionStats,
  subjectMatches,
} from './bus.js';
import { defaultRegistry, type Envelope, EnvelopeError, type EventRegistry } from './envelope.js';

/** The subjects of the platform's events; one stream holds them all so one consumer can read several. */
export const DEFAULT_EVENT_SUBJECTS = ['users.>', 'workouts.>', 'payments.>'];

export interface NatsEventBusOptions {
  /** e.g. `nats://127.0.0.1:4222`; several comma-separated servers of a cluster are fine */
  url: string;
  logger: Logger;
  /** @default defaultRegistry */
  registry?: EventRegistry;
  /**
   * Prefix of every stream name and subject (`<ns>.workouts.logged`, stream `<ns>_EVENTS`),
   * so environments or test runs can share one NATS account. @default '' (none)
   */
  namespace?: string;
  /** Subjects of the event stream, without the namespace. @default DEFAULT_EVENT_SUBJECTS */
  subjects?: string[];
  /** JetStream de-duplication window on the event id. @default 120_000 */
  duplicateWindowMs?: number;
  /** How long events are kept in the stream. @default 7 days */
  maxAgeMs?: number;
  /** How long dead letters are kept. @default 30 days */
  deadLetterMaxAgeMs?: number;
  /** Publish acknowledgement timeout. @default 5_000 */
  publishTimeoutMs?: number;
  /** Client name shown by the server's monitoring. */
  name?: string;
}

const DAY_MS = 86_400_000;

/**
 * The EventBus on NATS JetStream. Streams are created or updated at connect:
 * `EVENTS` (the event subjects) and `DLQ` (`dlq.<consumer>`). Publishing sets the
 * JetStream message id to the event id so re-publishes within the duplicate window
 * are dropped by the server. Consumers are durable pull consumers with explicit ack.
 */
export class NatsEventBus implements EventBus {
  readonly streamName: string;
  readonly deadLetterStreamName: string;
  private connected = true;
  private readonly subscriptions = new Set<NatsSubscription>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsEventBusOptions,
    private readonly registry: EventRegistry,
    private readonly prefix: string,
  ) {
    const ns = options.namespace ? `${options.namespace}_` : '';
    this.streamName = `${ns}EVENTS`;
    this.deadLetterStreamName = `${ns}DLQ`;
    void this.watchStatus();
  }

  /** Connects (retrying forever on later disconnects) and creates or updates the streams. */
  static async connect(options: NatsEventBusOptions): Promise<NatsEventBus> {
    const nc = await connect({
      servers: options.url.split(','),
      name: options.name ?? 'fitness-events',
      // A broker restart must not kill the service: keep reconnecting; /ready says false meanwhile.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
    });
    try {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc, { timeout: options.publishTimeoutMs ?? 5_000 });
      const prefix = options.namespace ? `${options.namespace}.` : '';
      const bus = new NatsEventBus(nc, js, jsm, options, options.registry ?? defaultRegistry, prefix);
      await bus.ensureStreams();
      return bus;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.options.logger.warn({ server: status.server }, 'event bus disconnected; reconnecting');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.options.logger.info({ server: status.server }, 'event bus reconnected');
      }
    }
  }

  private async ensureStreams(): Promise<void> {
    const subjects = (this.options.subjects ?? DEFAULT_EVENT_SUBJECTS).map((s) => this.prefix + s);
    await this.ensureStream({
      name: this.streamName,
      subjects,
      max_age: nanos(this.options.maxAgeMs ?? 7 * DAY_MS),
      duplicate_window: nanos(this.options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    });
    await this.ensureStream({
      name: this.deadLetterStreamName,
      subjects: [`${this.prefix}dlq.>`],
      max_age: nanos(this.options.deadLetterMaxAgeMs ?? 30 * DAY_MS),
      duplicate_window: nanos(this.options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    });
  }

  private async ensureStream(config: {
    name: string;
    subjects: string[];
    max_age: number;
    duplicate_window: number;
  }): Promise<void> {
    const wanted = {
      ...config,
      // Limits retention: several consumers read every event; events expire by age only.
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
    };
    const existing = await this.jsm.streams.info(config.name).catch(() => null);
    if (!existing) {
      await this.jsm.streams.add(wanted);
      return;
    }
    const c = existing.config;
    const same =
      c.subjects?.join() === config.subjects.join() &&
      c.max_age === config.max_age &&
      c.duplicate_window === config.duplicate_window;
    if (!same) await this.jsm.streams.update(config.name, { ...c, ...config });
  }

  async publish(envelope: Envelope): Promise<PublishResult> {
    const valid = this.registry.validate(envelope);
    // The trace context also travels as a header, where NATS-aware tracing tools look for it.
    const h = valid.trace ? headers() : undefined;
    if (h && valid.trace) h.set('traceparent', valid.trace);
    const ack = await this.js.publish(this.prefix + valid.type, JSON.stringify(envelope), {
      msgID: valid.id,
      ...(h ? { headers: h } : {}),
    });
    return { duplicate: ack.duplicate };
  }

  /** Test hook: stores raw bytes on an event subject as a broken producer would, unchecked. */
  async publishRaw(subject: string, data: string): Promise<void> {
    await this.js.publish(this.prefix + subject, data);
  }

  async consume(name: string, options: ConsumeOptions): Promise<Subscription> {
    assertConsumerName(name);
    const normalized = normalizeConsumeOptions(options);
    const subjects = normalized.subjects.map((s) => this.prefix + s);
    // NATS 2.9 filters a consumer on one subject only; with several, the consumer reads
    // the whole stream and the subscription acks what does not match, unhandled.
    const filter = subjects.length === 1 ? subjects[0] : undefined;
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(normalized.ackWaitMs),
      // One delivery more than the handler gets: a message whose last attempt died with
      // its process (ack timeout) still comes back once, to be dead-lettered, not dropped.
      max_deliver: normalized.maxDeliver + 1,
      max_ack_pending: Math.max(1_000, normalized.concurrency * 4),
      ...(filter ? { filter_subject: filter } : {}),
    };
    const existing = await this.jsm.consumers.info(this.streamName, name).catch(() => null);
    if (!existing) {
      await this.jsm.consumers.add(this.streamName, config);
    } else if (
      existing.config.filter_subject !== config.filter_subject ||
      existing.config.ack_wait !== config.ack_wait ||
      existing.config.max_deliver !== config.max_deliver
    ) {
      const { durable_name: _, deliver_policy: __, ...update } = config;
      await this.jsm.consumers.update(this.streamName, name, update);
    }
    const consumer = await this.js.consumers.get(this.streamName, name);
    const messages = await consumer.consume({ max_messages: Math.max(64, normalized.concurrency * 2) });
    const subscription = new NatsSubscription(name, messages, normalized, subjects, this, this.registry);
    this.subscriptions.add(subscription);
    subscription.onStop = () => this.subscriptions.delete(subscription);
    void subscription.run();
    return subscription;
  }

  /** @internal used by subscriptions */
  async writeDeadLetter(letter: DeadLetter, msgId: string): Promise<void> {
    await this.js.publish(`${this.prefix}dlq.${letter.consumer}`, JSON.stringify(letter), { msgID: msgId });
  }

  /** @internal waits until the server has read everything sent so far (acks included) */
  async flush(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
  }

  /** @internal */
  get log(): Logger {
    return this.options.logger;
  }

  async deadLetters(consumer: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    assertConsumerName(consumer);
    const limit = options.limit ?? 100;
    // A throw-away, unacked reader over the DLQ subject; it never moves anyone's position.
    const info = await this.jsm.consumers.add(this.deadLetterStreamName, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${this.prefix}dlq.${consumer}`,
      inactive_threshold: nanos(30_000),
      mem_storage: true,
    });
    try {
      const wanted = Math.min(limit, info.num_pending);
      if (wanted === 0) return [];
      const reader = await this.js.consumers.get(this.deadLetterStreamName, info.name);
      const letters: DeadLetter[] = [];
      const batch = await reader.fetch({ max_messages: wanted, expires: 5_000 });
      for await (const m of batch) {
        letters.push(m.json<DeadLetter>());
        if (letters.length >= wanted) break;
      }
      return letters;
    } finally {
      await this.jsm.consumers.delete(this.deadLetterStreamName, info.name).catch(() => undefined);
    }
  }

  async consumerState(name: string): Promise<ConsumerState | null> {
    const info = await this.jsm.consumers.info(this.streamName, name).catch(() => null);
    if (!info) return null;
    return {
      name,
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
    };
  }

  ready(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  async health(): Promise<BusHealth> {
    return {
      ready: this.ready(),
      adapter: 'nats',
      detail: this.ready() ? (this.nc.getServer() ?? 'connected') : 'disconnected',
    };
  }

  /** Deletes both streams with every event and consumer in them: for tests and teardown of a namespace. */
  async deleteStreams(): Promise<void> {
    for (const name of [this.streamName, this.deadLetterStreamName]) {
      await this.jsm.streams.delete(name).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

type Normalized = ReturnType<typeof normalizeConsumeOptions>;

class NatsSubscription implements Subscription {
  onStop: () => void = () => undefined;
  private stopping = false;
  private done: Promise<void> | null = null;
  private readonly inFlight: InFlight;
  private readonly counters = { delivered: 0, acked: 0, retried: 0, deadLettered: 0 };

  constructor(
    readonly name: string,
    private readonly messages: ConsumerMessages,
    private readonly options: Normalized,
    private readonly subjects: string[],
    private readonly bus: NatsEventBus,
    private readonly registry: EventRegistry,
  ) {
    this.inFlight = new InFlight(options.concurrency);
  }

  async run(): Promise<void> {
    this.done = (async () => {
      for await (const m of this.messages) {
        if (this.stopping) {
          // Fetched but not started: hand it back now rather than after the ack wait.
          m.nak();
          continue;
        }
        await this.inFlight.acquire();
        void this.handle(m).finally(() => this.inFlight.release());
      }
    })().catch((error) => {
      this.bus.log.error({ consumer: this.name, err: error }, 'consumer stopped on an error');
    });
    await this.done;
  }

  private async handle(m: JsMsg): Promise<void> {
    const deliveries = m.info.deliveryCount;
    this.counters.delivered++;
    let event: Envelope;
    try {
      event = this.registry.decode(m.data);
    } catch (error) {
      return this.deadLetter(m, deliveries, errorMessage(error), undefined);
    }
    if (!this.subjects.some((p) => subjectMatches(p, m.subject))) {
      m.ack();
      return;
    }
    if (deliveries > this.options.maxDeliver) {
      return this.deadLetter(m, deliveries, 'delivery attempts exhausted (ack wait expired)', event.id);
    }
    try {
      await this.options.handler(event, { deliveryCount: deliveries, subject: event.type });
      m.ack();
      this.counters.acked++;
    } catch (error) {
      if (error instanceof NonRetryableError || error instanceof EnvelopeError) {
        return this.deadLetter(m, deliveries, errorMessage(error), event.id);
      }
      if (deliveries >= this.options.maxDeliver) {
        return this.deadLetter(
          m,
          deliveries,
          `failed ${deliveries} deliveries: ${errorMessage(error)}`,
          event.id,
        );
      }
      this.counters.retried++;
      m.nak(backoffDelay(this.options.backoff, deliveries));
    }
  }

  private async deadLetter(m: JsMsg, deliveries: number, reason: string, eventId: string | undefined) {
    const letter: DeadLetter = {
      consumer: this.name,
      subject: m.subject,
      ...(eventId ? { eventId } : {}),
      deliveries,
      reason,
      failedAt: new Date().toISOString(),
      data: m.string(),
    };
    try {
      // The stream sequence makes the DLQ write idempotent if we crash between it and the term.
      await this.bus.writeDeadLetter(letter, `${this.name}:${m.info.streamSequence}`);
      // No reason argument: NATS 2.9 only understands a bare +TERM (the reason is in the DLQ record).
      m.term();
      this.counters.deadLettered++;
      this.bus.log.warn({ consumer: this.name, subject: m.subject, eventId, reason }, 'event dead-lettered');
    } catch (error) {
      // Not recorded, so not dropped: it comes back after a while.
      m.nak(backoffDelay(this.options.backoff, deliveries));
      this.bus.log.error({ consumer: this.name, err: error }, 'dead-letter publish failed; will retry');
    }
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      await this.messages.close().catch(() => undefined);
    }
    await this.done;
    await this.inFlight.idle();
    // ack() and term() are fire-and-forget; a stopped consumer's acks must have reached
    // the server, or a successor would get those events again after the ack wait.
    await this.bus.flush();
    this.onStop();
  }

  stats(): SubscriptionStats {
    return { ...this.counters, inFlight: this.inFlight.size };
  }
}
