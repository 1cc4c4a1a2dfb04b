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
  /**
   * Events every durable consumer has acknowledged are still kept while among the
   * newest this many, for consumers created later: those read the stream from its
   * oldest kept event. @default 1_000
   */
  replayEvents?: number;
  /**
   * Events kept at most. When that many are all still owed to some durable consumer
   * (a slow or a stopped one), publish refuses new ones, as a JetStream stream with
   * `max_msgs` and discard-new does: the error is transient, so the outbox relay
   * keeps the rows and retries, and nothing is lost. @default 10_000
   */
  maxEvents?: number;
  /** Dead letters kept per consumer; the oldest goes first. @default 1_000 */
  maxDeadLetters?: number;
}

export const DEFAULT_REPLAY_EVENTS = 1_000;
export const DEFAULT_MAX_EVENTS = 10_000;
export const DEFAULT_MAX_DEAD_LETTERS = 1_000;

interface Stored {
  seq: number;
  subject: string;
  /** serialized, as on a real broker: a consumer never shares the publisher's object */
  data: string;
}

/**
 * The stream: sequence numbers start at 1 and never repeat; the oldest events are
 * dropped from the front, so the kept ones are always a contiguous range of them.
 */
class EventLog {
  private items: (Stored | undefined)[] = [];
  private head = 0;
  private lastSeq = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** The sequence of the oldest kept event; `lastSeq + 1` when none is kept. */
  get firstSeq(): number {
    return this.lastSeq - this.size + 1;
  }

  get last(): number {
    return this.lastSeq;
  }

  append(subject: string, data: string): void {
    this.lastSeq += 1;
    this.items.push({ seq: this.lastSeq, subject, data });
  }

  get(seq: number): Stored | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    return this.items[this.head + seq - this.firstSeq];
  }

  oldest(): Stored | undefined {
    return this.items[this.head];
  }

  dropOldest(): void {
    this.items[this.head] = undefined;
    this.head += 1;
    // Copy the kept tail now and then, not on every drop: amortized O(1) per event.
    if (this.head >= 1_024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** Per durable consumer: survives stop() and a later consume() with the same name. */
interface Durable {
  subjects: string[];
  /** next sequence not yet looked at */
  cursor: number;
  /** delivered or waiting for a retry, not acked: seq -> deliveries so far */
  unacked: Map<number, number>;
  active: ActiveSubscription | null;
}

/**
 * Single-instance mode (NATS_URL unset): the EventBus semantics in memory, lost on
 * restart. Durable consumers resume after their last ack, failures are retried
 * after the backoff and dead-lettered after maxDeliver. Memory is bounded: an
 * event stays while a durable consumer has yet to acknowledge it, else only while
 * among the newest `replayEvents`; at `maxEvents` owed ones, publish refuses more.
 */
export class InProcessEventBus implements EventBus {
  private readonly registry: EventRegistry;
  private readonly duplicateWindowMs: number;
  private readonly replayEvents: number;
  private readonly maxEvents: number;
  private readonly maxDeadLetters: number;
  private readonly log = new EventLog();
  private readonly seen = new Map<string, number>();
  private readonly durables = new Map<string, Durable>();
  private readonly dlq = new Map<string, DeadLetter[]>();
  private closed = false;

  constructor(options: InProcessEventBusOptions = {}) {
    this.registry = options.registry ?? defaultRegistry;
    this.duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
    this.maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.replayEvents = Math.min(options.replayEvents ?? DEFAULT_REPLAY_EVENTS, this.maxEvents);
    this.maxDeadLetters = options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS;
    for (const [name, value] of Object.entries({
      maxEvents: this.maxEvents,
      replayEvents: this.replayEvents,
      maxDeadLetters: this.maxDeadLetters,
    })) {
      const least = name === 'maxEvents' ? 1 : 0;
      if (!Number.isInteger(value) || value < least)
        throw new Error(`${name} must be an integer >= ${least}.`);
    }
  }

  /** Events held in memory now. */
  get size(): number {
    return this.log.size;
  }

  async publish(envelope: Envelope): Promise<PublishResult> {
    if (this.closed) throw new Error('The event bus is closed.');
    const valid = this.registry.validate(envelope);
    const now = Date.now();
    this.forgetOlderThan(now - this.duplicateWindowMs);
    if (this.seen.has(valid.id)) return { duplicate: true };
    // Before the id is remembered: the retry of a refused event must not count as a duplicate.
    this.assertRoom();
    this.seen.set(valid.id, now);
    this.append(valid.type, JSON.stringify(envelope));
    return { duplicate: false };
  }

  /** Test hook: stores raw bytes on a subject as a broken producer would, unchecked. */
  publishRaw(subject: string, data: string): void {
    this.assertRoom();
    this.append(subject, data);
  }

  private append(subject: string, data: string): void {
    this.log.append(subject, data);
    for (const durable of this.durables.values()) durable.active?.wake();
    this.trim();
  }

  private isOwed(stored: Stored): boolean {
    for (const durable of this.durables.values()) if (owes(durable, stored)) return true;
    return false;
  }

  /** At maxEvents with the oldest still owed: only an ack can make room. */
  private get full(): boolean {
    const oldest = this.log.oldest();
    return this.log.size >= this.maxEvents && oldest !== undefined && this.isOwed(oldest);
  }

  private assertRoom(): void {
    // Replay events give way first; what a consumer still owes never does.
    while (this.log.size >= this.maxEvents && !this.full) this.log.dropOldest();
    if (this.full) {
      throw new Error(
        `The in-process event bus holds ${this.log.size} events not every durable consumer has acknowledged; retry later.`,
      );
    }
  }

  /**
   * Drops from the front what no durable consumer still needs beyond the newest
   * replayEvents. Runs on publish and on every ack: it stops at the first event
   * still owed, so it costs O(consumers) when there is nothing to drop.
   */
  private trim(): void {
    while (this.log.size > this.replayEvents && !this.isOwed(this.log.oldest()!)) this.log.dropOldest();
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
      durable = { subjects: normalized.subjects, cursor: 1, unacked: new Map(), active: null };
      this.durables.set(name, durable);
    }
    if (durable.active) throw new Error(`Consumer ${name} is already running on this bus.`);
    durable.subjects = normalized.subjects;
    const subscription = new ActiveSubscription(name, durable, normalized, this.log, this.registry, {
      deadLetter: (letter) => this.deadLetter(letter),
      settled: () => this.trim(),
    });
    durable.active = subscription;
    subscription.start();
    return subscription;
  }

  private deadLetter(letter: DeadLetter): void {
    const list = this.dlq.get(letter.consumer) ?? [];
    list.push(letter);
    if (list.length > this.maxDeadLetters) list.splice(0, list.length - this.maxDeadLetters);
    this.dlq.set(letter.consumer, list);
  }

  async deadLetters(consumer: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return (this.dlq.get(consumer) ?? []).slice(0, options.limit ?? 100);
  }

  async consumerState(name: string): Promise<ConsumerState | null> {
    const durable = this.durables.get(name);
    if (!durable) return null;
    let pending = 0;
    for (let seq = Math.max(durable.cursor, this.log.firstSeq); seq <= this.log.last; seq++) {
      const stored = this.log.get(seq);
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
    const full = this.full ? '; full: publishes are refused until consumers acknowledge' : '';
    return {
      ready: this.ready(),
      adapter: 'in-process',
      detail: `${this.log.size} events in memory (at most ${this.maxEvents})${full}`,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.durables.values()].map((d) => d.active?.stop()));
  }
}

/** Whether the durable consumer has yet to look at the event, or has it unacknowledged. */
function owes(durable: Durable, stored: Stored): boolean {
  if (durable.unacked.has(stored.seq)) return true;
  return durable.cursor <= stored.seq && durable.subjects.some((p) => subjectMatches(p, stored.subject));
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
    private readonly log: EventLog,
    private readonly registry: EventRegistry,
    private readonly bus: {
      deadLetter(letter: DeadLetter): void;
      /** An event left this consumer's debt (acked or dead-lettered): the bus may drop it. */
      settled(): void;
    },
  ) {}

  start(): void {
    // What a previous run left unacked comes first, as a broker redelivers it after the ack wait.
    this.ready.push(...[...this.durable.unacked.keys()].sort((a, b) => a - b));
    this.wake();
  }

  /** Pulls newly published events into the ready queue and starts handlers up to the concurrency. */
  wake(): void {
    if (!this.running) return;
    // A consumer created after the front was trimmed reads from the oldest kept event.
    this.durable.cursor = Math.max(this.durable.cursor, this.log.firstSeq);
    while (this.durable.cursor <= this.log.last) {
      const stored = this.log.get(this.durable.cursor++);
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
    // Never trimmed while unacknowledged (see owes).
    const stored = this.log.get(seq)!;
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
      this.bus.settled();
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
    this.bus.deadLetter({
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
    this.bus.settled();
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
