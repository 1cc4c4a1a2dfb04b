import { DEVELOPMENT_ROUTER_SECRET, ROUTER_SECRET_HEADER, tracer, tracingEnabled } from '@fitness/server-kit';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { type Client, createClient } from 'graphql-ws';
import type { Logger } from 'pino';
import WebSocket from 'ws';

/** What a subgraph sent for one event of a subscription. */
export interface UpstreamEvent {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface UpstreamListener {
  onEvent(event: UpstreamEvent): void;
  /** The upstream failed or ended: nothing more will come. */
  onEnd(error: Error | undefined): void;
}

export interface UpstreamOptions {
  /** Ping interval of the upstream connections. @default 10_000 */
  keepAliveMs: number;
  /** Reconnect attempts before a lost subgraph ends its subscriptions. @default 3 */
  retryAttempts: number;
  /** First reconnect delay, doubled each attempt. @default 250 */
  retryBaseMs: number;
  /** ROUTER_SUBGRAPH_SECRET, sent in every connection's connectionParams. */
  routerSecret: string;
}

export const DEFAULT_UPSTREAM_OPTIONS: UpstreamOptions = {
  keepAliveMs: 10_000,
  retryAttempts: 3,
  retryBaseMs: 250,
  routerSecret: DEVELOPMENT_ROUTER_SECRET,
};

/** ws:// form of a subgraph's http(s):// routing URL. */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** A use of one upstream connection; release it when the subscription ends. */
export interface ClientLease {
  client: Client;
  release(): void;
}

/**
 * One graphql-ws connection per (subgraph, credentials), multiplexing every upstream
 * subscription that shares them. A connection is created on first use and dropped,
 * with the credentials it holds, shortly after its last subscription ends.
 */
export class UpstreamClients {
  private readonly clients = new Map<string, { client: Client; leases: number; idle?: NodeJS.Timeout }>();

  constructor(
    private readonly logger: Logger,
    private readonly options: UpstreamOptions = DEFAULT_UPSTREAM_OPTIONS,
    /** How long an unused connection is kept for a quick re-subscribe. @default 2_000 */
    private readonly idleMs = 2_000,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  acquire(url: string, authorization: string | undefined): ClientLease {
    const key = `${url}\n${authorization ?? ''}`;
    let entry = this.clients.get(key);
    if (!entry) {
      entry = { client: this.create(url, authorization), leases: 0 };
      this.clients.set(key, entry);
    }
    const held = entry;
    clearTimeout(held.idle);
    held.leases += 1;
    let released = false;
    return {
      client: held.client,
      release: () => {
        if (released) return;
        released = true;
        held.leases -= 1;
        if (held.leases > 0) return;
        held.idle = setTimeout(() => {
          if (held.leases > 0 || this.clients.get(key) !== held) return;
          this.clients.delete(key);
          void held.client.dispose();
        }, this.idleMs);
        held.idle.unref();
      },
    };
  }

  private create(url: string, authorization: string | undefined): Client {
    const { keepAliveMs, retryAttempts, retryBaseMs } = this.options;
    return createClient({
      url: webSocketUrl(url),
      webSocketImpl: WebSocket,
      lazy: true,
      lazyCloseTimeout: 1_000,
      keepAlive: keepAliveMs,
      retryAttempts,
      // A subgraph that went away for good must end client streams soon, not after minutes.
      retryWait: (retries) => new Promise((r) => setTimeout(r, retryBaseMs * 2 ** retries)),
      shouldRetry: () => true,
      connectionParams: {
        [ROUTER_SECRET_HEADER]: this.options.routerSecret,
        ...(authorization ? { authorization } : {}),
      },
      on: {
        closed: (event) => {
          const code = (event as { code?: number }).code;
          if (code !== 1000) this.logger.warn({ url, code }, 'upstream subscription connection closed');
        },
      },
    });
  }

  async close(): Promise<void> {
    const entries = [...this.clients.values()];
    this.clients.clear();
    for (const e of entries) clearTimeout(e.idle);
    await Promise.all(entries.map((e) => e.client.dispose()));
  }
}

/**
 * One subscription to a subgraph, shared by every group of client operations that
 * needs exactly this primary fetch. Keeps the latest event, so a group that joins
 * late can run at once.
 */
export class Upstream {
  private readonly listeners = new Set<UpstreamListener>();
  private dispose: (() => void) | undefined;
  private ended = false;
  latest: UpstreamEvent | undefined;
  events = 0;

  constructor(
    readonly key: string,
    private readonly lease: ClientLease,
    private readonly request: { query: string; variables: Record<string, unknown>; operationName?: string },
    private readonly onIdle: (upstream: Upstream) => void,
  ) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  add(listener: UpstreamListener): void {
    this.listeners.add(listener);
    if (!this.dispose && !this.ended) this.start();
  }

  /** Removes a listener; the last one leaving completes the upstream subscription at once. */
  remove(listener: UpstreamListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.stop();
  }

  /**
   * While tracing: a CLIENT span for the subscribe message, whose traceparent goes
   * in the message's `extensions` (graphql-ws has no headers per operation), so the
   * subgraph's side of the subscription joins its trace. Ended once sent: an
   * upstream subscription lives for hours and is shared by many clients.
   */
  private traceExtensions(): { extensions: Record<string, string> } | undefined {
    if (!tracingEnabled()) return undefined;
    const span = tracer().startSpan(`subscribe ${this.request.operationName ?? 'subscription'}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'graphql.operation.type': 'subscription' },
    });
    const extensions: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), extensions);
    span.end();
    return { extensions };
  }

  private start(): void {
    this.dispose = this.lease.client.subscribe<Record<string, unknown>>(
      {
        query: this.request.query,
        variables: this.request.variables,
        ...(this.request.operationName ? { operationName: this.request.operationName } : {}),
        ...this.traceExtensions(),
      },
      {
        next: (result) => {
          this.events += 1;
          const event: UpstreamEvent = {
            data: result.data ?? null,
            ...(result.errors ? { errors: result.errors } : {}),
          };
          this.latest = event;
          for (const listener of this.listeners) listener.onEvent(event);
        },
        error: (error) => this.end(toError(error)),
        complete: () => this.end(undefined),
      },
    );
  }

  private end(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.dispose = undefined;
    const listeners = [...this.listeners];
    this.listeners.clear();
    this.lease.release();
    this.onIdle(this);
    for (const listener of listeners) listener.onEnd(error);
  }

  stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.dispose?.();
    this.dispose = undefined;
    this.lease.release();
    this.onIdle(this);
  }
}

function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (Array.isArray(error)) return new Error(error.map((e: { message?: string }) => e.message).join('; '));
  const code = (error as { code?: number } | undefined)?.code;
  if (code !== undefined) return new Error(`the subgraph connection closed (code ${code})`);
  return new Error('the subgraph subscription failed');
}
