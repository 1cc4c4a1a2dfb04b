import type { Envelope } from './envelope.js';

/** What a handler learns about the delivery besides the event. */
export interface DeliveryContext {
  /** 1 on the first delivery; grows with every retry and every redelivery after a crash */
  deliveryCount: number;
  /** the subject the event was published on (its type) */
  subject: string;
}

/**
 * Handles one event. Resolving acks it; throwing naks it for a retry after the
 * backoff, until `maxDeliver` deliveries, after which it is dead-lettered. Throw
 * `NonRetryableError` to dead-letter at once.
 */
export type EventHandler = (event: Envelope, delivery: DeliveryContext) => Promise<void>;

/** Thrown by a handler for an event that no retry can fix: dead-lettered at once. */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
}

export interface ConsumeOptions {
  /**
   * Event types to receive, in NATS subject syntax: `workouts.logged`, `workouts.*`,
   * `workouts.>`. Matching is the same on every adapter.
   */
  subjects: string[];
  handler: EventHandler;
  /** Deliveries before an event that keeps failing is dead-lettered. @default 5 */
  maxDeliver?: number;
  /**
   * Delay before retry n (ms), by failed delivery; the last value repeats.
   * @default [1_000, 5_000, 30_000]
   */
  backoff?: number[];
  /**
   * How long a delivery may stay unacknowledged before the broker assumes the
   * consumer died and redelivers it (NATS only; in-process the handler's promise is the ack).
   * @default 30_000
   */
  ackWaitMs?: number;
  /** Events handled at once by this instance; order across them is not kept. @default 1 */
  concurrency?: number;
}

/** Counters of one running subscription, since it started. */
export interface SubscriptionStats {
  delivered: number;
  acked: number;
  /** handler failures that were scheduled for a retry */
  retried: number;
  deadLettered: number;
  /** events being handled right now */
  inFlight: number;
}

export interface Subscription {
  readonly name: string;
  /** Stops fetching, waits for in-flight handlers to finish and ack; unstarted deliveries go back to the broker. */
  stop(): Promise<void>;
  stats(): SubscriptionStats;
}

/** A durable consumer as the broker sees it. */
export interface ConsumerState {
  name: string;
  /** events not yet delivered */
  pending: number;
  /** delivered, not yet acknowledged (in flight or waiting for a retry) */
  ackPending: number;
  /** events delivered more than once and still unacknowledged */
  redelivered: number;
}

/** An event that a consumer gave up on, as stored on `dlq.<consumer>`. */
export interface DeadLetter {
  consumer: string;
  subject: string;
  /** the event id when the envelope could be read */
  eventId?: string;
  deliveries: number;
  reason: string;
  failedAt: string;
  /** the original message, verbatim */
  data: string;
}

export interface PublishResult {
  /** true when the broker had already seen this event id within its duplicate window */
  duplicate: boolean;
}

export interface BusHealth {
  ready: boolean;
  adapter: 'nats' | 'in-process' | 'ipc';
  detail?: string;
}

/**
 * The event bus port. Publishing is idempotent by event id within the duplicate
 * window; consumers are durable and named: a consumer restarted with the same
 * name resumes after the last acknowledged event.
 */
export interface EventBus {
  /**
   * Validates the envelope against the registry and publishes it on the subject
   * `envelope.type`.
   * @throws EnvelopeError for an invalid envelope; other errors are transient (broker unavailable)
   */
  publish(envelope: Envelope): Promise<PublishResult>;
  /** Starts (creating when new) the durable consumer `name`. One running subscription per name per bus. */
  consume(name: string, options: ConsumeOptions): Promise<Subscription>;
  /** The dead letters of a consumer, oldest first. @default limit 100 */
  deadLetters(consumer: string, options?: { limit?: number }): Promise<DeadLetter[]>;
  /** The broker's view of a durable consumer, or null when it does not exist. */
  consumerState(name: string): Promise<ConsumerState | null>;
  /** Whether the bus is connected now: /ready reports this. */
  ready(): boolean;
  health(): Promise<BusHealth>;
  /** Stops every subscription (finishing in-flight work) and disconnects. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_BACKOFF_MS = [1_000, 5_000, 30_000];
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** Matches the JetStream default so both adapters dedupe alike. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

/** The delay before the retry that follows failed delivery number `deliveryCount`. */
export function backoffDelay(backoff: readonly number[], deliveryCount: number): number {
  if (backoff.length === 0) return 0;
  return backoff[Math.min(Math.max(deliveryCount - 1, 0), backoff.length - 1)] ?? 0;
}

/** NATS subject matching: `*` is one token, a trailing `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Consumer names become NATS durable names and subject tokens: no dots, spaces or wildcards. */
export function assertConsumerName(name: string): void {
  if (!NAME.test(name)) throw new Error(`Consumer name ${JSON.stringify(name)} must match ${NAME}.`);
}

export function normalizeConsumeOptions(options: ConsumeOptions) {
  if (options.subjects.length === 0) throw new Error('consume: at least one subject is required.');
  const maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 1) throw new Error('consume: maxDeliver must be >= 1.');
  return {
    subjects: options.subjects,
    handler: options.handler,
    maxDeliver,
    backoff: options.backoff ?? DEFAULT_BACKOFF_MS,
    ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    concurrency: Math.max(1, options.concurrency ?? 1),
  };
}

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Counting semaphore for handler concurrency, with a wait for "all done". */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.count;
  }

  async acquire(): Promise<void> {
    while (this.count >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.count++;
  }

  release(): void {
    this.count--;
    this.waiters.shift()?.();
    if (this.count === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
