export { SpanKind } from '@opentelemetry/api';
export {
  allowEmbeddedStores,
  type ConfigChecks,
  flag,
  logFormat,
  logLevel,
  nodeEnv,
  optionalUrl,
  parseConfig,
  port,
  type ReportProblem,
  refuseEmbeddedStores,
  SECRET_MIN_BITS,
  SECRET_MIN_DISTINCT,
  SECRET_MIN_LENGTH,
  secretBits,
  weakSecretReason,
  z,
} from './config.js';
export * from './errors.js';
export {
  apolloServerLogger,
  createFormatError,
  errorRequestIdPlugin,
  type FormatErrorOptions,
  withoutSuggestions,
} from './formatError.js';
export {
  CHECK_TIMEOUT_MS,
  type Check,
  cachedCheck,
  createServiceMetrics,
  runCheck,
  runChecks,
} from './health.js';
export { HELD_ACCOUNTS_PATH, heldAccountsRoute } from './heldAccounts.js';
export {
  closeHttpServer,
  createHttpApp,
  type HttpAppOptions,
  HttpError,
  listen,
  type RouteHandler,
  readBody,
  requestUrl,
  sendJson,
} from './http.js';
export { exitOnStartupError, runUntilSignal, SAME_SIGNAL_WINDOW_MS, type Service } from './lifecycle.js';
export { createLogger, type LineLogger, type Logger, requestLogger } from './logger.js';
export {
  type CacheLookups,
  type ConnectionPool,
  type ConsumerReading,
  DURATION_BUCKETS,
  DurationHistogram,
  DurationSeries,
  MAX_OPERATION_LABELS,
  mongoConnectionPool,
  type OutboxBacklog,
  requestDurationHistogram,
  requestDurationPlugin,
  ServiceMetrics,
  type StoreClientMetrics,
  type StoreClientReading,
  storeClientMetrics,
} from './metrics.js';
export { formatLogLine, type LogFormat, prettyStream, wantsPretty } from './prettyLog.js';
export { isRegion, REGIONS, type Region } from './regions.js';
export {
  currentRequestId,
  logScopeFields,
  type RequestScope,
  requestScope,
  runInRequestScope,
  saneRequestId,
  traceIdOf,
  tracingEnabled,
} from './requestScope.js';
export {
  type RunningSubgraph,
  runSubgraph,
  type Stoppable,
  type SubgraphAuth,
  type SubgraphBus,
  type SubgraphDefinition,
  type SubgraphParts,
  type SubgraphStores,
  type SubgraphWiring,
  startSubgraph,
  type ViewerOf,
} from './runSubgraph.js';
export { DateTimeScalar } from './scalars.js';
export { enforceSelfOnly, type OwnerCheck, SELF_ONLY_DIRECTIVE, SELF_ONLY_SPEC } from './selfOnly.js';
export { type Served, type ServeOptions, serve } from './serve.js';
export {
  buildEnforcedSubgraphSchema,
  createSubgraphServer,
  loadSchemaDocument,
  type SubgraphServerOptions,
} from './subgraph.js';
export {
  type EmbeddedStores,
  type ServiceSettings,
  type SubgraphConfigOptions,
  type SubgraphSettings,
  type SubgraphValues,
  serviceEnv,
  serviceSettings,
  subgraphConfig,
  subgraphEnv,
  subgraphSettings,
} from './subgraphConfig.js';
export { type TextKind, type TextRules, validateText } from './text.js';
export {
  activeTraceparent,
  contextFrom,
  failSpan,
  injectTraceHeaders,
  inSpan,
  operationSpanPlugin,
  serveInSpan,
  startTracing,
  type Tracing,
  type TracingSettings,
  traceMongoCommands,
  tracer,
  tracingEnv,
  tracingSettings,
} from './tracing.js';
export {
  assertFromRouter,
  DEVELOPMENT_ROUTER_SECRET,
  ROUTER_SECRET_HEADER,
  type RouterSecretCheck,
  routerSecretCheck,
  routerSecretEnv,
  routerSecretFrom,
} from './trustedHop.js';
