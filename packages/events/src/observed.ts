import type { ConsumerReading, ServiceMetrics } from '@fitness/server-kit';
import type { ConsumeOptions, EventBus, Subscription } from './bus.js';

/**
 * The bus with every consumer started on it reported in the service's metrics
 * (ServiceMetrics.consumer): what the broker still holds for it, the lag of the
 * last event it handled, its acknowledged, retried and dead-lettered totals.
 * Everything else is the bus itself.
 */
export function observedBus(bus: EventBus, metrics: ServiceMetrics): EventBus {
  return {
    publish: (envelope) => bus.publish(envelope),
    async consume(name: string, options: ConsumeOptions): Promise<Subscription> {
      let lagSeconds: number | null = null;
      const handler = options.handler;
      const subscription = await bus.consume(name, {
        ...options,
        handler: async (event, delivery) => {
          await handler(event, delivery);
          const occurredAt = Date.parse(event.occurredAt);
          if (Number.isFinite(occurredAt)) lagSeconds = Math.max(0, (Date.now() - occurredAt) / 1000);
        },
      });
      metrics.consumer(name, async (): Promise<ConsumerReading> => {
        const stats = subscription.stats();
        const state = await bus.consumerState(name).catch(() => null);
        return {
          pending: state ? state.pending + state.ackPending : null,
          lagSeconds,
          acked: stats.acked,
          retried: stats.retried,
          deadLettered: stats.deadLettered,
        };
      });
      return subscription;
    },
    deadLetters: (consumer, options) => bus.deadLetters(consumer, options),
    consumerState: (name) => bus.consumerState(name),
    ready: () => bus.ready(),
    health: () => bus.health(),
    close: () => bus.close(),
  };
}
