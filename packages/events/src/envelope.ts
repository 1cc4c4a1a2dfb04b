import { randomUUID } from 'node:crypto';
import { activeTraceparent } from '@fitness/server-kit';
import { z } from 'zod';

/**
 * The wire format of every domain event: versioned JSON. `type` doubles as the
 * bus subject (`workouts.logged`); `version` selects the payload schema, so a
 * producer can ship v2 while consumers still read v1 until they are upgraded.
 */
export interface Envelope<P = unknown> {
  /** uuid; also the broker's de-duplication id and the consumers' idempotency key */
  id: string;
  /** dotted, lower case: `<domain>.<past-tense verb>` */
  type: string;
  /** payload schema version, a positive integer */
  version: number;
  /** ISO-8601 instant of the change the event describes (not of its publication) */
  occurredAt: string;
  /** the service that wrote the event, e.g. `workouts` */
  producer: string;
  /** W3C `traceparent` of the request that caused the event, when there was one */
  trace?: string;
  payload: P;
}

const TYPE = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;

/** The envelope itself, payload unchecked: checked by the schema of (type, version). */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.string().regex(TYPE, 'type must be dotted lower case, e.g. workouts.logged'),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  producer: z.string().min(1),
  trace: z.string().min(1).optional(),
  payload: z.unknown(),
});

const isoInstant = z.iso.datetime({ offset: true });
const amount = z.number().finite().nonnegative();

// Workout totals are what read models add (logged) and subtract (deleted).
const workoutTotals = {
  workoutId: z.uuid(),
  userId: z.string().min(1),
  region: z.string().min(1).nullable(),
  startedAt: isoInstant,
  sport: z.string().min(1),
  durationSec: z.number().int().nonnegative(),
  volumeKg: amount,
  distanceM: amount,
  calories: amount,
};

/** The catalogue's muscle groups, as the workouts schema names them. */
export const MUSCLE_GROUPS = [
  'CHEST',
  'BACK',
  'SHOULDERS',
  'ARMS',
  'CORE',
  'LEGS',
  'GLUTES',
  'FULL_BODY',
  'CARDIO',
] as const;

/**
 * One set as logged, with its exercise's muscle group so that consumers need no
 * copy of the workouts catalogue. Absent measures are null, as in the workout.
 */
const workoutSet = z.object({
  exerciseId: z.string().min(1),
  muscleGroup: z.enum(MUSCLE_GROUPS),
  reps: z.number().int().nonnegative().nullable(),
  weightKg: amount.nullable(),
  durationSec: z.number().int().nonnegative().nullable(),
  distanceM: amount.nullable(),
});

/** v2: the v1 totals unchanged, plus the sets in logged order. */
const workoutWithSets = z.object({ ...workoutTotals, sets: z.array(workoutSet).max(200) });

/**
 * Payload schemas per event type and version. Add a version by adding a key;
 * never change a published one (consumers on older code keep reading it).
 */
export const eventSchemas = {
  'users.registered': {
    1: z.object({
      userId: z.string().min(1),
      handle: z.string().min(1),
      region: z.string().min(1),
      occurredAt: isoInstant,
    }),
  },
  /**
   * An account was erased: every service erases what it holds for `userId` and
   * refuses its tokens. `tokensExpireBy` is when every token issued to it has
   * expired (issued before the deletion, so within one token lifetime): how long a
   * revocation must be remembered.
   */
  'users.deleted': {
    1: z.object({ userId: z.string().min(1), occurredAt: isoInstant, tokensExpireBy: isoInstant }),
  },
  /** signOutEverywhere: tokens of `userId` issued before `issuedBefore` are refused. */
  'users.signed_out': {
    1: z.object({ userId: z.string().min(1), issuedBefore: isoInstant, tokensExpireBy: isoInstant }),
  },
  'workouts.logged': { 1: z.object(workoutTotals), 2: workoutWithSets },
  /** Carries the same totals (v2: and sets) as the logged event so read models can subtract them. */
  'workouts.deleted': { 1: z.object(workoutTotals), 2: workoutWithSets },
  'payments.succeeded': {
    1: z.object({
      paymentId: z.string().min(1),
      userId: z.string().min(1),
      amountCents: z.number().int().positive(),
      currency: z.string().regex(/^[A-Z]{3}$/, 'ISO-4217 code, e.g. EUR'),
    }),
  },
} as const;

type Schemas = typeof eventSchemas;
/** The event types this platform knows. */
export type EventType = keyof Schemas;
export type EventVersion<T extends EventType> = keyof Schemas[T] & number;
export type EventPayload<T extends EventType, V extends EventVersion<T> = EventVersion<T>> = z.infer<
  Schemas[T][V] & z.ZodType
>;
/** An envelope whose `type` and `version` narrow the payload. */
export type EventOf<T extends EventType, V extends EventVersion<T> = EventVersion<T>> = Envelope<
  EventPayload<T, V>
> & { type: T; version: V };
/** Any known event; switch on `type` (and `version`) to narrow the payload. */
export type KnownEvent = {
  [T in EventType]: { [V in EventVersion<T>]: EventOf<T, V> }[EventVersion<T>];
}[EventType];

/** Why an envelope was refused; consumers dead-letter on any of these. */
export type EnvelopeProblem = 'malformed' | 'unknown-type' | 'unknown-version' | 'invalid-payload';

/** An envelope that fails its schema. Never retried: the same bytes fail the same way. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly problem: EnvelopeProblem,
    message: string,
  ) {
    super(message);
  }
}

type SchemaTable = Readonly<Record<string, Readonly<Record<number, z.ZodType>>>>;

const describe = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

/**
 * Schemas per (type, version), checked on publish and again on consume: the
 * producer cannot emit what no consumer can read, and a consumer never trusts bytes.
 */
export class EventRegistry {
  constructor(private readonly schemas: SchemaTable = eventSchemas) {}

  /** A new registry with one more (type, version); the receiver is unchanged. */
  with(type: string, version: number, schema: z.ZodType): EventRegistry {
    return new EventRegistry({ ...this.schemas, [type]: { ...this.schemas[type], [version]: schema } });
  }

  /** Registered types, for streams and docs. */
  types(): string[] {
    return Object.keys(this.schemas);
  }

  /**
   * Checks an envelope (already JSON-parsed) and returns it with the payload as
   * its schema parsed it (unknown payload keys dropped).
   * @throws EnvelopeError
   */
  validate(candidate: unknown): Envelope {
    const envelope = envelopeSchema.safeParse(candidate);
    if (!envelope.success)
      throw new EnvelopeError('malformed', `malformed envelope: ${describe(envelope.error)}`);
    const { type, version } = envelope.data;
    const versions = this.schemas[type];
    if (!versions) throw new EnvelopeError('unknown-type', `unknown event type ${type}`);
    const schema = versions[version];
    if (!schema) throw new EnvelopeError('unknown-version', `unknown version ${version} of ${type}`);
    const payload = schema.safeParse(envelope.data.payload);
    if (!payload.success) {
      throw new EnvelopeError(
        'invalid-payload',
        `invalid ${type} v${version} payload: ${describe(payload.error)}`,
      );
    }
    return { ...envelope.data, payload: payload.data } as Envelope;
  }

  /**
   * Decodes bytes from the wire.
   * @throws EnvelopeError ('malformed' when the bytes are not JSON)
   */
  decode(data: string | Uint8Array): Envelope {
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch {
      throw new EnvelopeError('malformed', 'envelope is not JSON');
    }
    return this.validate(parsed);
  }
}

/** The registry of the platform's events; the buses and outbox use it by default. */
export const defaultRegistry = new EventRegistry();

export interface CreateEnvelopeOptions {
  /** the emitting service */
  producer: string;
  /** @default a new random uuid */
  id?: string;
  /** @default now */
  occurredAt?: Date | string;
  /** W3C traceparent of the current request. @default the active span's, while tracing */
  trace?: string;
}

/**
 * Builds and validates a known event. Producers call this inside the business
 * transaction and hand the result to `writeOutbox`.
 * @throws EnvelopeError when the payload does not match the schema
 */
export function createEnvelope<T extends EventType, V extends EventVersion<T>>(
  type: T,
  version: V,
  payload: EventPayload<T, V>,
  options: CreateEnvelopeOptions,
): EventOf<T, V> {
  const occurredAt = options.occurredAt ?? new Date();
  // Written with the change, inside the request: the consumers continue its trace.
  const trace = options.trace ?? activeTraceparent();
  const envelope: Envelope = {
    id: options.id ?? randomUUID(),
    type,
    version,
    occurredAt: typeof occurredAt === 'string' ? occurredAt : occurredAt.toISOString(),
    producer: options.producer,
    ...(trace ? { trace } : {}),
    payload,
  };
  return defaultRegistry.validate(envelope) as EventOf<T, V>;
}
