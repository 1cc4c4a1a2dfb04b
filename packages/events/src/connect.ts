import { type ServiceMetrics, tracingEnabled } from '@fitness/server-kit';
import type { Logger } from 'pino';
import type { EventBus } from './bus.js';
import type { EventRegistry } from './envelope.js';
import { InProcessEventBus } from './inProcessBus.js';
import { IpcEventBus, processChannel } from './ipcBus.js';
import { NatsEventBus } from './natsBus.js';
import { observedBus } from './observed.js';

export interface EventBusConfig {
  /** NATS_URL as read by the service's config.ts; unset = single-instance mode */
  natsUrl?: string;
  /** the service name, shown as the NATS client name */
  service: string;
  logger: Logger;
  registry?: EventRegistry;
  /**
   * `ipc`: without NATS, reach the event hub of the launcher (`pnpm start`) over this
   * process's IPC channel, so events cross services on one machine.
   */
  hub?: 'ipc' | undefined;
  /** The service's metrics: every consumer started on the bus is reported there (see observedBus). */
  metrics?: ServiceMetrics | undefined;
}

/**
 * The bus a service runs on: NATS JetStream when a URL is configured, else the
 * in-process bus with a loud warning (events then reach only this process). With
 * `metrics`, its consumers are reported there; while tracing, its publishes and
 * handled events are spans (see observedBus).
 */
export async function connectEventBus(config: EventBusConfig): Promise<EventBus> {
  const [bus, adapter] = await openEventBus(config);
  return config.metrics || tracingEnabled() ? observedBus(bus, config.metrics, adapter) : bus;
}

export type EventBusKind = 'nats' | 'ipc' | 'in-process';

/** The bus `connectEventBus` opens for a configuration in this process: `in-process` hears no other service. */
export function eventBusKind(config: Pick<EventBusConfig, 'natsUrl' | 'hub'>): EventBusKind {
  if (config.natsUrl) return 'nats';
  // The hub is reached over the IPC channel of the launcher that started this process.
  return config.hub === 'ipc' && typeof process.send === 'function' ? 'ipc' : 'in-process';
}

async function openEventBus(config: EventBusConfig): Promise<[EventBus, EventBusKind]> {
  const kind = eventBusKind(config);
  if (config.natsUrl) {
    const bus = await NatsEventBus.connect({
      url: config.natsUrl,
      logger: config.logger,
      name: config.service,
      ...(config.registry ? { registry: config.registry } : {}),
    });
    return [bus, 'nats'];
  }
  if (kind === 'ipc') {
    config.logger.info('NATS_URL unset: using the launcher event hub (one machine: events cross services)');
    return [new IpcEventBus(processChannel(process)), 'ipc'];
  }
  config.logger.warn(
    'NATS_URL unset: using the in-process event bus (single-instance mode); events do not leave this process',
  );
  return [new InProcessEventBus(config.registry ? { registry: config.registry } : {}), 'in-process'];
}
