import {
  type ConsumerReading,
  contextFrom,
  inSpan,
  type ServiceMetrics,
  tracingEnabled,
} from '@fitness/server-kit';
import { SpanKind } from '@opentelemetry/api';
import type { ConsumeOptions, DeliveryContext, EventBus, EventHandler, Subscription } from './bus.js';
import type { Envelope } from './envelope.js';

/** What the spans of one bus say about it: messaging.system. */
const SYSTEMS = { nats: 'nats', 'in-process': 'in-process', ipc: 'ipc' } as const;

/**
 * Publishes in a PRODUCER span that continues the envelope's trace (the request
 * that wrote the event), and hands the consumers that span as the envelope's trace.
 */
function publishTraced(bus: EventBus, system: string, envelope: Envelope) {
  return inSpan(
    `publish ${envelope.type}`,
    {
      kind: SpanKind.PRODUCER,
      parent: contextFrom(envelope.trace),
      attributes: {
        'messaging.system': system,
        'messaging.operation.type': 'send',
        'messaging.destination.name': envelope.type,
        'messaging.message.id': envelope.id,
      },
    },
    async (span) => {
      const { traceId, spanId, traceFlags } = span.spanContext();
      const trace = `00-${traceId}-${spanId}-0${traceFlags.toString(16)}`;
      return bus.publish({ ...envelope, trace });
    },
  );
}

/** Handles in a CONSUMER span that continues the envelope's trace. */
function handleTraced(
  handler: EventHandler,
  consumer: string,
  system: string,
  event: Envelope,
  delivery: DeliveryContext,
) {
  return inSpan(
    `process ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFrom(event.trace),
      attributes: {
        'messaging.system': system,
        'messaging.operation.type': 'process',
        'messaging.destination.name': delivery.subject,
        'messaging.consumer.group.name': consumer,
        'messaging.message.id': event.id,
        'messaging.message.delivery_count': delivery.deliveryCount,
      },
    },
    () => handler(event, delivery),
  );
}

/**
 * The bus with every consumer started on it reported in the service's metrics
 * (ServiceMetrics.consumer): what the broker still holds for it, the lag of the
 * last event it handled, its acknowledged, retried and dead-lettered totals. While
 * tracing, each publish is a PRODUCER span and each handled event a CONSUMER span,
 * both continuing the trace the envelope carries (see createEnvelope), so a request's
 * trace goes on through the relay into every consumer. Everything else is the bus itself.
 */
export function observedBus(
  bus: EventBus,
  metrics: ServiceMetrics | undefined,
  adapter: keyof typeof SYSTEMS,
): EventBus {
  const system = SYSTEMS[adapter];
  return {
    publish: (envelope) => (tracingEnabled() ? publishTraced(bus, system, envelope) : bus.publish(envelope)),
    async consume(name: string, options: ConsumeOptions): Promise<Subscription> {
      let lagSeconds: number | null = null;
      const handler = options.handler;
      const subscription = await bus.consume(name, {
        ...options,
        handler: async (event, delivery) => {
          if (tracingEnabled()) await handleTraced(handler, name, system, event, delivery);
          else await handler(event, delivery);
          const occurredAt = Date.parse(event.occurredAt);
          if (Number.isFinite(occurredAt)) lagSeconds = Math.max(0, (Date.now() - occurredAt) / 1000);
        },
      });
      metrics?.consumer(name, async (): Promise<ConsumerReading> => {
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
