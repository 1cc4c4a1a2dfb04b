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
  NonRetryableError,
  normalizeConsumeOptions,
  type PublishResult,
  type Subscription,
  type SubscriptionStats,
  subjectMatches,
} from './bus.js';
import { defaultRegistry, type Envelope, EnvelopeError, type EventRegistry } from './envelope.js';

export interface InProcessEventBusOptions {
  /** @default defaultRegistry */
  registry?: EventRegistry;
  /** Re-publishes of an event id within this window are dropped. @default 120_000 */
  duplicateWindowMs?: number;
}

interface Stored {
  seq: number;
  subject: string;
  /** serialized, as on a real broker: a consumer never shares the publisher's object */
  data: string;
}

/** Per durable consumer: survives stop() and a later consume() with the same name. */
interface Durable {
  subjects: string[];
  /** next log index not yet looked at */
  cursor: number;
  /** delivered or waiting for a retry, not acked: seq -> deliveries so far */
  unacked: Map<number, number>;
  active: ActiveSubscription | null;
}

/**
 * Single-instance mode (NATS_URL unset): the EventBus semantics in memory. Events
 * live as long as the process; durable consumers resume after their last ack,
 * failures are retried after the backoff and dead-lettered after maxDeliver.
 */
export class InProcessEventBus implements EventBus {
  private readonly registry: EventRegistry;
  private readonly duplicateWindowMs: number;
  private readonly log: Stored[] = [];
  private readonly seen = new Map<string, number>();
  private readonly durables = new Map<string, Durable>();
  private readonly dlq = new Map<string, DeadLetter[]>();
  private closed = false;

  constructor(options: InProcessEventBusOptions = {}) {
    this.registry = options.registry ?? defaultRegistry;
    this.duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  }

  async publish(envelope: Envelope): Promise<PublishResult> {
    if (this.closed) throw new Error('The event bus is closed.');
    const valid = this.registry.validate(envelope);
    const now = Date.now();
    this.forgetOlderThan(now - this.duplicateWindowMs);
    if (this.seen.has(valid.id)) return { duplicate: true };
    this.seen.set(valid.id, now);
    this.append(valid.type, JSON.stringify(envelope));
    return { duplicate: false };
  }

  /** Test hook: stores raw bytes on a subject as a broken producer would, unchecked. */
  publishRaw(subject: string, data: string): void {
    this.append(subject, data);
  }

  private append(subject: string, data: string): void {
    this.log.push({ seq: this.log.length + 1, subject, data });
    for (const durable of this.durables.values()) durable.active?.wake();
  }

  // Map keeps insertion order, which is publication order: stop at the first young one.
  private forgetOlderThan(cutoff: number): void {
    for (const [id, at] of this.seen) {
      if (at > cutoff) break;
      this.seen.delete(id);
    }
  }

  async consume(name: string, options: ConsumeOptions): Promise<Subscription> {
    assertConsumerName(name);
    if (this.closed) throw new Error('The event bus is closed.');
    const normalized = normalizeConsumeOptions(options);
    let durable = this.durables.get(name);
    if (!durable) {
      durable = { subjects: normalized.subjects, cursor: 0, unacked: new Map(), active: null };
      this.durables.set(name, durable);
    }
    if (durable.active) throw new Error(`Consumer ${name} is already running on this bus.`);
    durable.subjects = normalized.subjects;
    const subscription = new ActiveSubscription(
      name,
      durable,
      normalized,
      this.log,
      this.registry,
      (letter) => this.deadLetter(letter),
    );
    durable.active = subscription;
    subscription.start();
    return subscription;
  }

  private deadLetter(letter: DeadLetter): void {
    const list = this.dlq.get(letter.consumer) ?? [];
    list.push(letter);
    this.dlq.set(letter.consumer, list);
  }

  async deadLetters(consumer: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return (this.dlq.get(consumer) ?? []).slice(0, options.limit ?? 100);
  }

  async consumerState(name: string): Promise<ConsumerState | null> {
    const durable = this.durables.get(name);
    if (!durable) return null;
    let pending = 0;
    for (let i = durable.cursor; i < this.log.length; i++) {
      const stored = this.log[i];
      if (stored && durable.subjects.some((p) => subjectMatches(p, stored.subject))) pending++;
    }
    let redelivered = 0;
    for (const deliveries of durable.unacked.values()) if (deliveries > 1) redelivered++;
    return { name, pending, ackPending: durable.unacked.size, redelivered };
  }

  ready(): boolean {
    return !this.closed;
  }

  async health(): Promise<BusHealth> {
    return { ready: this.ready(), adapter: 'in-process', detail: `${this.log.length} events in memory` };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.durables.values()].map((d) => d.active?.stop()));
  }
}

type Normalized = ReturnType<typeof normalizeConsumeOptions>;

class ActiveSubscription implements Subscription {
  private readonly ready: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private running = true;
  private idle: (() => void)[] = [];
  private readonly counters = { delivered: 0, acked: 0, retried: 0, deadLettered: 0 };

  constructor(
    readonly name: string,
    private readonly durable: Durable,
    private readonly options: Normalized,
    private readonly log: readonly Stored[],
    private readonly registry: EventRegistry,
    private readonly onDeadLetter: (letter: DeadLetter) => void,
  ) {}

  start(): void {
    // What a previous run left unacked comes first, as a broker redelivers it after the ack wait.
    this.ready.push(...[...this.durable.unacked.keys()].sort((a, b) => a - b));
    this.wake();
  }

  /** Pulls newly published events into the ready queue and starts handlers up to the concurrency. */
  wake(): void {
    if (!this.running) return;
    while (this.durable.cursor < this.log.length) {
      const stored = this.log[this.durable.cursor++];
      if (stored && this.durable.subjects.some((p) => subjectMatches(p, stored.subject))) {
        this.durable.unacked.set(stored.seq, 0);
        this.ready.push(stored.seq);
      }
    }
    while (this.running && this.inFlight < this.options.concurrency && this.ready.length > 0) {
      const seq = this.ready.shift()!;
      this.inFlight++;
      void this.deliver(seq).finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
        this.wake();
      });
    }
  }

  private async deliver(seq: number): Promise<void> {
    const stored = this.log[seq - 1]!;
    const deliveries = (this.durable.unacked.get(seq) ?? 0) + 1;
    this.durable.unacked.set(seq, deliveries);
    this.counters.delivered++;
    let event: Envelope;
    try {
      event = this.registry.decode(stored.data);
    } catch (error) {
      return this.deadLetter(stored, deliveries, errorMessage(error), undefined);
    }
    try {
      await this.options.handler(event, { deliveryCount: deliveries, subject: stored.subject });
      this.durable.unacked.delete(seq);
      this.counters.acked++;
    } catch (error) {
      if (error instanceof NonRetryableError || error instanceof EnvelopeError) {
        return this.deadLetter(stored, deliveries, errorMessage(error), event.id);
      }
      if (deliveries >= this.options.maxDeliver) {
        return this.deadLetter(
          stored,
          deliveries,
          `failed ${deliveries} deliveries: ${errorMessage(error)}`,
          event.id,
        );
      }
      this.counters.retried++;
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.ready.push(seq);
          this.wake();
        },
        backoffDelay(this.options.backoff, deliveries),
      );
      this.timers.add(timer);
    }
  }

  private deadLetter(stored: Stored, deliveries: number, reason: string, eventId: string | undefined): void {
    this.onDeadLetter({
      consumer: this.name,
      subject: stored.subject,
      ...(eventId ? { eventId } : {}),
      deliveries,
      reason,
      failedAt: new Date().toISOString(),
      data: stored.data,
    });
    this.durable.unacked.delete(stored.seq);
    this.counters.deadLettered++;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // Scheduled retries stay unacked in the durable state; the next consume() picks them up.
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    this.durable.active = null;
  }

  stats(): SubscriptionStats {
    return { ...this.counters, inFlight: this.inFlight };
  }
}
