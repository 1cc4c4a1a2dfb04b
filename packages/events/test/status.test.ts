import { realService } from '@fitness/testing';
import { describe, expect, it } from 'vitest';
import { formatBusStatus, NatsEventBus, NonRetryableError, readBusStatus } from '../src/index.js';
import { silent, uniqueNamespace, waitFor, workoutLogged } from './helpers.js';

const natsUrl = realService('nats', 'events status command');

describe.skipIf(!natsUrl)('events status', () => {
  it('should show stream messages, consumer pending counts and dead letters per consumer', async () => {
    const namespace = uniqueNamespace('s');
    const bus = await NatsEventBus.connect({ url: natsUrl!, logger: silent, namespace });
    try {
      const poison = workoutLogged();
      await bus.publish(poison);
      const subscription = await bus.consume('ops', {
        subjects: ['workouts.>'],
        handler: async (event) => {
          if (event.id === poison.id) throw new NonRetryableError('bad');
        },
      });
      await waitFor(() => subscription.stats().deadLettered === 1);
      await subscription.stop();
      await bus.publish(workoutLogged());
      await bus.publish(workoutLogged());

      const streams = await readBusStatus(natsUrl!, namespace);
      const [events, dlq] = streams;
      expect(events).toMatchObject({ name: `${namespace}_EVENTS`, messages: 3 });
      expect(events!.perSubject).toEqual({ [`${namespace}.workouts.logged`]: 3 });
      expect(events!.consumers).toEqual([
        expect.objectContaining({ name: 'ops', pending: 2, ackPending: 0, ackFloorSeq: 1 }),
      ]);
      expect(dlq).toMatchObject({
        name: `${namespace}_DLQ`,
        messages: 1,
        perSubject: { [`${namespace}.dlq.ops`]: 1 },
      });
      expect(formatBusStatus(streams)).toMatch(/consumer ops\s+pending=2 ackPending=0/);
    } finally {
      await bus.deleteStreams();
      await bus.close();
    }
  });
});
