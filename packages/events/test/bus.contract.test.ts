import { EventEmitter } from 'node:events';
import { realService } from '@fitness/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Channel,
  type DeliveryContext,
  type Envelope,
  EnvelopeError,
  type EventBus,
  EventHub,
  InProcessEventBus,
  IpcEventBus,
  NatsEventBus,
  NonRetryableError,
} from '../src/index.js';
import { silent, uniqueNamespace, userRegistered, waitFor, workoutLogged } from './helpers.js';

interface BusUnderTest {
  bus: EventBus;
  /** stores bytes unchecked, as a broken or newer producer would */
  publishRaw(subject: string, data: string): Promise<void>;
  dispose(): Promise<void>;
}

const natsUrl = realService('nats', 'event bus contract (nats)');

const adapters: { name: string; create(): Promise<BusUnderTest> }[] = [
  {
    name: 'in-process',
    async create() {
      const bus = new InProcessEventBus();
      return { bus, publishRaw: async (s, d) => bus.publishRaw(s, d), dispose: () => bus.close() };
    },
  },
];
// The launcher's hub and a service's client, over a channel that serializes every
// message as the IPC channel does (JSON), delivered asynchronously.
function channelPair() {
  const sides = [new EventEmitter(), new EventEmitter()] as const;
  let open = true;
  const side = (self: EventEmitter, other: EventEmitter): Channel => ({
    send(message) {
      if (!open) return;
      const copy = JSON.parse(JSON.stringify(message)) as unknown;
      setImmediate(() => other.emit('message', copy));
    },
    onMessage: (listener) => self.on('message', listener),
    onClose: (listener) => self.once('close', listener),
    connected: () => open,
  });
  return {
    hubSide: side(sides[0], sides[1]),
    serviceSide: side(sides[1], sides[0]),
    close() {
      open = false;
      for (const s of sides) s.emit('close');
    },
  };
}

adapters.push({
  name: 'ipc (launcher hub)',
  async create() {
    const inner = new InProcessEventBus();
    const pair = channelPair();
    new EventHub(inner).attach(pair.hubSide);
    const bus = new IpcEventBus(pair.serviceSide);
    return {
      bus,
      publishRaw: async (s, d) => inner.publishRaw(s, d),
      async dispose() {
        await bus.close();
        pair.close();
        await inner.close();
      },
    };
  },
});
if (natsUrl) {
  adapters.push({
    name: 'nats',
    async create() {
      const bus = await NatsEventBus.connect({
        url: natsUrl,
        logger: silent,
        namespace: uniqueNamespace('c'),
      });
      return {
        bus,
        publishRaw: (s, d) => bus.publishRaw(s, d),
        async dispose() {
          await bus.deleteStreams();
          await bus.close();
        },
      };
    },
  });
}

// Short backoff so retries happen within the test; the semantics are the same.
const FAST = { backoff: [20, 40], ackWaitMs: 5_000 };

describe.each(adapters)('EventBus contract: $name', (adapter) => {
  let current: BusUnderTest | null = null;
  const setup = async () => {
    current = await adapter.create();
    return current;
  };
  afterEach(async () => {
    await current?.dispose();
    current = null;
  });

  /** Consumes into an array, in arrival order. */
  async function collect(bus: EventBus, name: string, subjects = ['workouts.>', 'users.>']) {
    const received: Envelope[] = [];
    const subscription = await bus.consume(name, {
      subjects,
      ...FAST,
      handler: async (event) => {
        received.push(event);
      },
    });
    return { received, subscription };
  }

  it('should deliver a published event with its payload to a consumer', async () => {
    const { bus } = await setup();
    const event = workoutLogged(321);
    expect(await bus.publish(event)).toEqual({ duplicate: false });
    const { received, subscription } = await collect(bus, 'reader');
    await waitFor(() => received.length === 1);
    expect(received[0]).toMatchObject({ id: event.id, type: 'workouts.logged', version: 1 });
    expect((received[0]!.payload as { calories: number }).calories).toBe(321);
    await subscription.stop();
  });

  it('should carry the trace context to the consumer', async () => {
    const { bus } = await setup();
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const event = { ...workoutLogged(), trace };
    await bus.publish(event);
    const { received, subscription } = await collect(bus, 'traced');
    await waitFor(() => received.length === 1);
    expect(received[0]!.trace).toBe(trace);
    await subscription.stop();
  });

  it('should drop a re-publish of the same event id within the duplicate window', async () => {
    const { bus } = await setup();
    const event = workoutLogged();
    await bus.publish(event);
    expect(await bus.publish(event)).toEqual({ duplicate: true });
    const sentinel = workoutLogged();
    await bus.publish(sentinel);
    const { received, subscription } = await collect(bus, 'dedupe');
    await waitFor(() => received.some((e) => e.id === sentinel.id));
    expect(received.map((e) => e.id)).toEqual([event.id, sentinel.id]);
    await subscription.stop();
  });

  it('should refuse to publish an invalid envelope', async () => {
    const { bus } = await setup();
    const event = workoutLogged();
    await expect(
      bus.publish({ ...event, payload: { ...(event.payload as object), calories: -1 } }),
    ).rejects.toThrow(EnvelopeError);
    await expect(bus.publish({ ...event, version: 99 })).rejects.toThrow(/unknown version/);
  });

  it('should resume a durable consumer after its last acknowledged event', async () => {
    const { bus } = await setup();
    const first = [workoutLogged(), workoutLogged()];
    for (const e of first) await bus.publish(e);
    const run1 = await collect(bus, 'durable');
    await waitFor(() => run1.received.length === 2);
    await run1.subscription.stop();
    const later = [workoutLogged(), workoutLogged()];
    for (const e of later) await bus.publish(e);
    const run2 = await collect(bus, 'durable');
    await waitFor(() => run2.received.length === 2);
    expect(run2.received.map((e) => e.id)).toEqual(later.map((e) => e.id));
    // A second, differently named consumer reads the stream from the start.
    const other = await collect(bus, 'other');
    await waitFor(() => other.received.length === 4);
    await run2.subscription.stop();
    await other.subscription.stop();
  });

  it('should only deliver the subjects a consumer asked for', async () => {
    const { bus } = await setup();
    await bus.publish(userRegistered('a'));
    const workout = workoutLogged();
    await bus.publish(workout);
    const users = userRegistered('b');
    await bus.publish(users);
    const onlyWorkouts = await collect(bus, 'workoutsonly', ['workouts.>']);
    const onlyUsers = await collect(bus, 'usersonly', ['users.registered']);
    await waitFor(() => onlyUsers.received.length === 2);
    await waitFor(() => onlyWorkouts.received.length === 1);
    expect(onlyWorkouts.received.map((e) => e.id)).toEqual([workout.id]);
    expect(onlyUsers.received.map((e) => e.type)).toEqual(['users.registered', 'users.registered']);
    await onlyWorkouts.subscription.stop();
    await onlyUsers.subscription.stop();
  });

  it('should retry a failing handler with backoff and count the deliveries', async () => {
    const { bus } = await setup();
    const event = workoutLogged();
    await bus.publish(event);
    const deliveries: DeliveryContext[] = [];
    const subscription = await bus.consume('flaky', {
      subjects: ['workouts.>'],
      ...FAST,
      handler: async (_event, delivery) => {
        deliveries.push(delivery);
        if (delivery.deliveryCount < 3) throw new Error('database briefly unavailable');
      },
    });
    await waitFor(() => subscription.stats().acked === 1);
    expect(deliveries.map((d) => d.deliveryCount)).toEqual([1, 2, 3]);
    expect(subscription.stats()).toMatchObject({ retried: 2, acked: 1, deadLettered: 0 });
    await subscription.stop();
  });

  it('should dead-letter an event after maxDeliver failures and go on with later events', async () => {
    const { bus } = await setup();
    const poison = workoutLogged(1);
    const healthy = workoutLogged(2);
    await bus.publish(poison);
    await bus.publish(healthy);
    const handled: string[] = [];
    const subscription = await bus.consume('bounded', {
      subjects: ['workouts.>'],
      ...FAST,
      maxDeliver: 3,
      handler: async (event) => {
        if (event.id === poison.id) throw new Error('cannot apply');
        handled.push(event.id);
      },
    });
    await waitFor(() => subscription.stats().deadLettered === 1 && handled.length === 1);
    const letters = await bus.deadLetters('bounded');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ consumer: 'bounded', eventId: poison.id, deliveries: 3 });
    expect(letters[0]!.reason).toMatch(/failed 3 deliveries: cannot apply/);
    expect(JSON.parse(letters[0]!.data).id).toBe(poison.id);
    await subscription.stop();
    // Dead-lettered means settled: the broker does not hold it for redelivery.
    expect(await bus.consumerState('bounded')).toMatchObject({ pending: 0, ackPending: 0 });
  });

  it('should dead-letter poison messages without calling the handler and not block the stream', async () => {
    const { bus, publishRaw } = await setup();
    const unknownVersion = { ...workoutLogged(), version: 7 };
    const badPayload = { ...workoutLogged(), payload: { calories: 'lots' } };
    await publishRaw('workouts.logged', 'not json at all');
    await publishRaw('workouts.logged', JSON.stringify(unknownVersion));
    await publishRaw('workouts.logged', JSON.stringify(badPayload));
    const after = workoutLogged(5);
    await bus.publish(after);
    const { received, subscription } = await collect(bus, 'poison', ['workouts.>']);
    await waitFor(() => received.length === 1 && subscription.stats().deadLettered === 3);
    expect(received.map((e) => e.id)).toEqual([after.id]);
    const reasons = (await bus.deadLetters('poison')).map((l) => l.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/not JSON/),
      expect.stringMatching(/unknown version 7/),
      expect.stringMatching(/invalid workouts.logged v1 payload/),
    ]);
    await subscription.stop();
  });

  it('should dead-letter at once on NonRetryableError', async () => {
    const { bus } = await setup();
    const event = workoutLogged();
    await bus.publish(event);
    const subscription = await bus.consume('strict', {
      subjects: ['workouts.>'],
      ...FAST,
      handler: async () => {
        throw new NonRetryableError('user does not exist');
      },
    });
    await waitFor(() => subscription.stats().deadLettered === 1);
    const letters = await bus.deadLetters('strict');
    expect(letters[0]).toMatchObject({ eventId: event.id, deliveries: 1, reason: 'user does not exist' });
    await subscription.stop();
    expect(await bus.consumerState('strict')).toMatchObject({ pending: 0, ackPending: 0 });
  });

  it('should finish in-flight handlers on stop()', async () => {
    const { bus } = await setup();
    await bus.publish(workoutLogged());
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    let finished = false;
    const subscription = await bus.consume('graceful', {
      subjects: ['workouts.>'],
      ...FAST,
      handler: async () => {
        started = true;
        await gate;
        finished = true;
      },
    });
    await waitFor(() => started);
    const stopped = subscription.stop();
    release();
    await stopped;
    expect(finished).toBe(true);
    expect(subscription.stats()).toMatchObject({ acked: 1, inFlight: 0 });
  });

  it('should report consumer state and readiness', async () => {
    const { bus } = await setup();
    expect(bus.ready()).toBe(true);
    expect((await bus.health()).ready).toBe(true);
    expect(await bus.consumerState('nobody')).toBeNull();
    await bus.publish(workoutLogged());
    const { received, subscription } = await collect(bus, 'stateful', ['workouts.>']);
    await waitFor(() => received.length === 1);
    await subscription.stop();
    await bus.publish(workoutLogged());
    await waitFor(async () => (await bus.consumerState('stateful'))?.pending === 1);
    await current!.dispose();
    current = null;
    expect(bus.ready()).toBe(false);
  });
});
