export { type AccountErasureOptions, accountErasureConsumer, usersDeletedEvent } from './accountErasure.js';
export {
  assertConsumerName,
  type BusHealth,
  backoffDelay,
  type ConsumeOptions,
  type ConsumerState,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_DELIVER,
  type DeadLetter,
  type DeliveryContext,
  type EventBus,
  type EventHandler,
  NonRetryableError,
  type PublishResult,
  type Subscription,
  type SubscriptionStats,
  subjectMatches,
} from './bus.js';
export { connectEventBus, type EventBusConfig, type EventBusKind, eventBusKind } from './connect.js';
export {
  type CreateEnvelopeOptions,
  createEnvelope,
  defaultRegistry,
  type Envelope,
  EnvelopeError,
  type EnvelopeProblem,
  type EventOf,
  type EventPayload,
  EventRegistry,
  type EventType,
  type EventVersion,
  envelopeSchema,
  eventSchemas,
  type KnownEvent,
  MUSCLE_GROUPS,
} from './envelope.js';
export {
  type ConsumerMetrics,
  type DedupeSlot,
  HandlerDedupe,
  type IdempotentConsumer,
  type IdempotentConsumerOptions,
  idempotentConsumer,
  MemoryProcessedEventStore,
  PgProcessedEventStore,
  type ProcessedEventStore,
} from './idempotent.js';
export { InProcessEventBus, type InProcessEventBusOptions } from './inProcessBus.js';
export { type Channel, EventHub, IpcEventBus, processChannel } from './ipcBus.js';
export {
  MONGO_OUTBOX_INDEX,
  type MongoOutboxField,
  type MongoOutboxLease,
  MongoOutboxRelay,
  type MongoOutboxRelayOptions,
  type MongoParkedEvent,
  type MongoPendingEvent,
  mongoOutboxFields,
  withMongoOutbox,
} from './mongoOutbox.js';
export { DEFAULT_EVENT_SUBJECTS, NatsEventBus, type NatsEventBusOptions } from './natsBus.js';
export { observedBus } from './observed.js';
export {
  DEFAULT_OUTBOX_CHANNEL,
  OUTBOX_SQL_PATH,
  OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayStats,
  PROCESSED_EVENTS_SQL_PATH,
  startOutboxRelay,
  type WriteOutboxOptions,
  writeOutbox,
} from './outbox.js';
export { type ConsumerStatus, formatBusStatus, readBusStatus, type StreamStatus } from './status.js';
