import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEnvelope, defaultRegistry, EnvelopeError, subjectMatches } from '../src/index.js';
import { workoutLogged } from './helpers.js';

const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof EnvelopeError ? error.problem : `other: ${String(error)}`;
  }
  return 'accepted';
};

describe('envelope', () => {
  it('should build a valid envelope with defaults for id, occurredAt and no trace', () => {
    const event = createEnvelope(
      'payments.succeeded',
      1,
      { paymentId: 'p1', userId: 'u1', amountCents: 999, currency: 'EUR' },
      { producer: 'payments' },
    );
    expect(event).toMatchObject({ type: 'payments.succeeded', version: 1, producer: 'payments' });
    expect(z.uuid().safeParse(event.id).success).toBe(true);
    expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
    expect(event).not.toHaveProperty('trace');
  });

  it('should keep the trace context when given', () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = createEnvelope(
      'users.registered',
      1,
      { userId: 'u', handle: 'h', region: 'eu', occurredAt: '2025-01-01T00:00:00Z' },
      { producer: 'users', trace },
    );
    expect(event.trace).toBe(trace);
  });

  it('should refuse an invalid payload at creation', () => {
    expect(() =>
      createEnvelope(
        'payments.succeeded',
        1,
        { paymentId: 'p1', userId: 'u1', amountCents: 0, currency: 'euro' },
        { producer: 'payments' },
      ),
    ).toThrow(/amountCents.*currency|currency.*amountCents/s);
  });

  it('should classify what is wrong with an envelope', () => {
    const good = workoutLogged();
    expect(problem(() => defaultRegistry.validate(good))).toBe('accepted');
    expect(problem(() => defaultRegistry.validate({ ...good, id: 'not-a-uuid' }))).toBe('malformed');
    expect(problem(() => defaultRegistry.validate({ ...good, occurredAt: 'yesterday' }))).toBe('malformed');
    expect(problem(() => defaultRegistry.validate({ ...good, type: 'Workouts Logged' }))).toBe('malformed');
    expect(problem(() => defaultRegistry.validate({ ...good, type: 'workouts.renamed' }))).toBe(
      'unknown-type',
    );
    expect(problem(() => defaultRegistry.validate({ ...good, version: 3 }))).toBe('unknown-version');
    // v2 exists and wants the sets: a v1 payload under v2 is refused, not read as v1.
    expect(problem(() => defaultRegistry.validate({ ...good, version: 2 }))).toBe('invalid-payload');
    expect(
      problem(() =>
        defaultRegistry.validate({ ...good, payload: { ...(good.payload as object), sport: '' } }),
      ),
    ).toBe('invalid-payload');
    expect(problem(() => defaultRegistry.decode('{'))).toBe('malformed');
  });

  it('should accept a null region on workouts.logged and the same totals on workouts.deleted', () => {
    const payload = {
      workoutId: randomUUID(),
      userId: 'u',
      region: null,
      startedAt: '2025-01-01T10:00:00+02:00',
      sport: 'cycling',
      durationSec: 60,
      volumeKg: 0,
      distanceM: 1000.5,
      calories: 12,
    };
    expect(createEnvelope('workouts.deleted', 1, payload, { producer: 'workouts' }).payload).toEqual(payload);
  });

  it('should let a registry learn a new version without changing the default one', () => {
    const v2 = defaultRegistry.with(
      'users.registered',
      2,
      z.object({ userId: z.string(), locale: z.string() }),
    );
    const event = {
      ...workoutLogged(),
      type: 'users.registered',
      version: 2,
      payload: { userId: 'u', locale: 'de' },
    };
    expect(v2.validate(event).payload).toEqual({ userId: 'u', locale: 'de' });
    expect(problem(() => defaultRegistry.validate(event))).toBe('unknown-version');
    expect(v2.types()).toEqual(defaultRegistry.types());
  });

  it('should match subjects like NATS does', () => {
    expect(subjectMatches('workouts.>', 'workouts.logged')).toBe(true);
    expect(subjectMatches('workouts.>', 'workouts')).toBe(false);
    expect(subjectMatches('workouts.*', 'workouts.logged')).toBe(true);
    expect(subjectMatches('workouts.*', 'workouts.logged.v1')).toBe(false);
    expect(subjectMatches('workouts.logged', 'workouts.logged')).toBe(true);
    expect(subjectMatches('workouts.logged', 'workouts.deleted')).toBe(false);
    expect(subjectMatches('*.logged', 'workouts.logged')).toBe(true);
  });
});
