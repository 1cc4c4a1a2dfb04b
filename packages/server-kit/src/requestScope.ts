import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import { trace } from '@opentelemetry/api';

/**
 * What every log line of one request carries: the request id the router chose (or
 * was sent by a load balancer) and the trace id of the request's trace. Filled in as
 * the request is admitted: a subgraph believes the headers only of the router.
 */
export interface RequestScope {
  requestId?: string | undefined;
  /** The trace of a traceparent header, for a service whose own tracing is off. */
  traceId?: string | undefined;
}

const storage = new AsyncLocalStorage<RequestScope>();

// Set by startTracing: while it is false, no log line asks OpenTelemetry anything.
let tracing = false;

/** Whether this process records traces (startTracing started an exporter). */
export function tracingEnabled(): boolean {
  return tracing;
}

/** @internal startTracing's switch. */
export function setTracingEnabled(on: boolean): void {
  tracing = on;
}

/** Runs `fn` (and everything it starts) in `scope`: its log lines carry the scope's ids. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the request being handled, if any. */
export function requestScope(): RequestScope | undefined {
  return storage.getStore();
}

/** The request id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** A request id as the router forwards it: short, of URL-safe characters; anything else is dropped. */
export function saneRequestId(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[A-Za-z0-9._-]{1,64}$/.test(value) ? value : undefined;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a W3C traceparent header, unless it is malformed or all zeros. */
export function traceIdOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.traceparent;
  const match = typeof value === 'string' ? TRACEPARENT.exec(value) : null;
  return match && !/^0+$/.test(match[1]!) ? match[1] : undefined;
}

/**
 * The fields a log line gets from where it is written: the request id, and the
 * trace id (of the active span while tracing, else of the request's traceparent).
 * Outside a request and without a span: none.
 */
export function logScopeFields(): { requestId?: string; traceId?: string } {
  const scope = storage.getStore();
  const traceId = (tracing ? trace.getActiveSpan()?.spanContext().traceId : undefined) ?? scope?.traceId;
  if (!scope?.requestId && !traceId) return {};
  const fields: { requestId?: string; traceId?: string } = {};
  if (scope?.requestId) fields.requestId = scope.requestId;
  if (traceId) fields.traceId = traceId;
  return fields;
}
