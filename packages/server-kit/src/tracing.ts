import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { flag, optionalUrl, type ReportProblem, z } from './config.js';
import { setTracingEnabled, tracingEnabled } from './requestScope.js';

/**
 * The standard OpenTelemetry variables every service reads (merge into its config
 * schema). The SDK reads the rest of the standard set itself: OTEL_TRACES_SAMPLER
 * and OTEL_TRACES_SAMPLER_ARG, OTEL_EXPORTER_OTLP_HEADERS (and _TRACES_HEADERS),
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_* (batching).
 */
export const tracingEnv = {
  /** Where traces go: the collector's base URL (`/v1/traces` is appended). Unset: no tracing at all. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(),
  /** The traces endpoint itself, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
  /** @default the service's own name */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** `true`: no tracing, whatever the endpoint says. */
  OTEL_SDK_DISABLED: flag(false),
};

export interface TracingSettings {
  /** The OTLP/HTTP traces URL; undefined: tracing is off and nothing of the SDK is loaded. */
  url: string | undefined;
  protocol: 'http/protobuf' | 'http/json';
  /** OTEL_SERVICE_NAME, when set. */
  serviceName: string | undefined;
}

/** Reads tracingEnv's variables back; grpc is refused (the services export over HTTP). */
export function tracingSettings(
  c: z.output<z.ZodObject<typeof tracingEnv>>,
  report: ReportProblem,
): TracingSettings {
  const protocol = c.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? c.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol === 'grpc') {
    const variable = c.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    report(variable, 'grpc is not supported: use http/protobuf (the default) or http/json');
  }
  const base = c.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url = c.OTEL_SDK_DISABLED
    ? undefined
    : (c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined));
  return {
    url,
    protocol: protocol === 'grpc' ? 'http/protobuf' : protocol,
    serviceName: c.OTEL_SERVICE_NAME,
  };
}

/** A started tracer provider: `shutdown` exports what is still buffered. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when `settings.url` is set: a tracer provider with a batching
 * OTLP exporter (protobuf or JSON over HTTP), the W3C trace context propagator and
 * an AsyncLocalStorage context manager, registered globally, so every span of this
 * process (ours, @apollo/gateway's) is exported. Without a URL nothing is loaded and
 * nothing changes: every call site checks tracingEnabled() before it makes a span.
 */
export async function startTracing(
  service: string,
  settings: TracingSettings | undefined,
): Promise<Tracing | undefined> {
  if (!settings?.url) return undefined;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  const { OTLPTraceExporter } =
    settings.protocol === 'http/json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  // OTEL_RESOURCE_ATTRIBUTES and the process and host, then the service's name over them.
  const resource = resources
    .detectResources({
      detectors: [resources.envDetector, resources.processDetector, resources.hostDetector],
    })
    .merge(resources.resourceFromAttributes({ 'service.name': settings.serviceName ?? service }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.url }))],
  });
  provider.register();
  setTracingEnabled(true);
  return {
    async shutdown() {
      setTracingEnabled(false);
      await provider.shutdown();
    },
  };
}

/** The tracer of this project's own spans. */
export const tracer = () => trace.getTracer('fitness');

/** The W3C traceparent of the active span, for a header or an event envelope; undefined while tracing is off. */
export function activeTraceparent(): string | undefined {
  if (!tracingEnabled()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Adds the active span's traceparent to outgoing headers (tracing on only). */
export function injectTraceHeaders(headers: Record<string, string>): void {
  if (tracingEnabled()) propagation.inject(context.active(), headers);
}

/** The context a traceparent (of a header or an envelope) continues; the root one without. */
export function contextFrom(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/**
 * Runs `fn` in a new active span, ended when it settles; a throw or rejection marks
 * the span as an error and is rethrown. Call only while tracing is on.
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks a span as failed by `error`. */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * The server span of one HTTP request, continuing the caller's traceparent: named
 * `POST /graphql` until the operation is known (see operationSpanPlugin), ended
 * when the response finishes.
 */
export function serveInSpan(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  handle: () => Promise<void>,
): Promise<void> {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers as IncomingHttpHeaders);
  const method = req.method ?? 'GET';
  const span = tracer().startSpan(
    `${method} ${path}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } },
    parent,
  );
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), handle);
}

/**
 * Names the request's server span after its operation (`query Dashboard`) with
 * graphql.operation.name and .type, and marks it failed when the response carries
 * errors. Only installed while tracing is on.
 */
export function operationSpanPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      const span = trace.getActiveSpan();
      if (!span) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation ?? 'operation';
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute('graphql.operation.type', type);
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (errors?.length) {
            span.setAttribute('graphql.errors', errors.length);
            span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]!.message });
          }
        },
      };
    },
  };
}

/** The command monitoring events of a MongoDB client (driver option `monitorCommands: true`). */
interface MongoCommandEvents {
  on(
    event: 'commandStarted',
    listener: (e: {
      requestId: number;
      commandName: string;
      databaseName: string;
      command: Record<string, unknown>;
    }) => void,
  ): unknown;
  on(event: 'commandSucceeded', listener: (e: { requestId: number }) => void): unknown;
  on(event: 'commandFailed', listener: (e: { requestId: number; failure: Error }) => void): unknown;
}

/** Commands the driver does for itself, not for a request: no spans. */
const MONGO_HOUSEKEEPING = new Set([
  'hello',
  'ismaster',
  'isMaster',
  'ping',
  'saslStart',
  'saslContinue',
  'endSessions',
]);

/**
 * The collection a command works on: the value of its name (`{ find: 'users', … }`),
 * or `collection` (getMore); none for a database's own commands.
 */
function collectionOf(command: Record<string, unknown>, commandName: string): string | undefined {
  const target = command[commandName] ?? command.collection;
  return typeof target === 'string' ? target : undefined;
}

/**
 * Every command of a MongoDB client (mongoose's too) in a CLIENT span
 * `mongodb <command>` with db.system, db.namespace, db.operation.name and
 * db.collection.name (never the command's documents, filters or values), from the
 * driver's command monitoring; the span's parent is the context the command was
 * issued in. Install only while tracing, on a client created with `monitorCommands: true`.
 */
export function traceMongoCommands(client: MongoCommandEvents): void {
  const open = new Map<number, Span>();
  client.on('commandStarted', (event) => {
    if (MONGO_HOUSEKEEPING.has(event.commandName)) return;
    const attributes: Attributes = {
      'db.system': 'mongodb',
      'db.namespace': event.databaseName,
      'db.operation.name': event.commandName,
    };
    const collection = collectionOf(event.command, event.commandName);
    if (collection) attributes['db.collection.name'] = collection;
    open.set(
      event.requestId,
      tracer().startSpan(`mongodb ${event.commandName}`, { kind: SpanKind.CLIENT, attributes }),
    );
  });
  client.on('commandSucceeded', (event) => {
    open.get(event.requestId)?.end();
    open.delete(event.requestId);
  });
  client.on('commandFailed', (event) => {
    const span = open.get(event.requestId);
    if (!span) return;
    failSpan(span, event.failure);
    span.end();
    open.delete(event.requestId);
  });
}
