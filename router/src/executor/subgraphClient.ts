import { performance } from 'node:perf_hooks';
import type { Logger } from '@fitness/server-kit';
import { DEVELOPMENT_ROUTER_SECRET, injectTraceHeaders, ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import { type DocumentNode, type GraphQLFormattedError, Kind, parse, type SelectionSetNode } from 'graphql';
import { Pool } from 'undici';
import { CLIENT_ADDRESS_HEADER } from '../clientAddress.js';
import type { RouterContext } from '../context.js';

/** The code of a field whose subgraph could not be reached or did not answer. */
export const SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE';

/**
 * How often an outage that goes on is logged again (with the count of failed
 * requests since), so a long outage neither floods the log nor falls silent.
 * @default 30_000
 */
const OUTAGE_LOG_EVERY_MS = 30_000;

/**
 * Whether one subgraph answers, as its requests see it: logs ONE line when it stops
 * answering, a reminder while it stays down, and one when it is back, instead of a
 * stack trace per failed request.
 */
export class SubgraphHealth {
  private down: { since: number; loggedAt: number; failures: number } | undefined;

  constructor(
    private readonly name: string,
    private readonly logger: Logger | undefined,
    /** Runs on every failure (the metrics count them); the log line is once per outage. */
    private readonly onFailure?: () => void,
  ) {}

  get available(): boolean {
    return this.down === undefined;
  }

  /** A failed request; `requestId` is the request that met it, for the log line. */
  failed(error: unknown, requestId?: string): void {
    this.onFailure?.();
    const now = Date.now();
    const reason = describeFailure(error);
    if (!this.down) {
      this.down = { since: now, loggedAt: now, failures: 1 };
      this.logger?.warn(
        { subgraph: this.name, reason, requestId },
        'subgraph unavailable; its fields answer null with an error',
      );
      return;
    }
    this.down.failures += 1;
    if (now - this.down.loggedAt >= OUTAGE_LOG_EVERY_MS) {
      this.logger?.warn(
        {
          subgraph: this.name,
          reason,
          failedRequests: this.down.failures,
          downForMs: now - this.down.since,
          requestId,
        },
        'subgraph still unavailable',
      );
      this.down.loggedAt = now;
      this.down.failures = 0;
    }
  }

  /** A request answered; `requestId` is the one that found the subgraph back, for the log line. */
  succeeded(requestId?: string): void {
    if (!this.down) return;
    this.logger?.info(
      { subgraph: this.name, downForMs: Date.now() - this.down.since, requestId },
      'subgraph available again',
    );
    this.down = undefined;
  }
}

/** One HTTP answer of a subgraph, its body read whole as text. */
export interface SubgraphAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Counts of subgraph requests sent and of fetches that shared one in flight. */
export interface FetchCounters {
  sent: number;
  shared: number;
}

/** A subgraph's GraphQL response body. */
export interface SubgraphResponse {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/**
 * Headers that make two requests different for the subgraph: who asks (the token),
 * from where (the client address it throttles by) and whether its inline trace is
 * asked for (a request with it answers more). The request id is not among
 * them: sharers of one request log under the first one's id.
 */
const IDENTITY_HEADERS = ['authorization', CLIENT_ADDRESS_HEADER, 'apollo-federation-include-trace'];

/** Where a subgraph's fetches are measured (the router's metrics): allocation-free on the way. */
export interface FetchObserver {
  /** Each HTTP request sent, from sending to the whole answer read, in seconds. */
  timing: { observe(seconds: number): void };
  /** A fetch that failed: `unavailable` (no usable answer) or `graphql` (an answer with errors). */
  failed(kind: 'unavailable' | 'graphql'): void;
}

export interface SubgraphClientOptions {
  /** The subgraph's name, in log lines. */
  name?: string;
  logger?: Logger;
  routerSecret?: string;
  /** Share identical in-flight queries (never mutations). @default true */
  dedupe?: boolean;
  /** Measures the fetches (duration, failures); none by default. */
  observer?: FetchObserver;
}

/**
 * One subgraph as the router reaches it: one undici connection pool with keep-alive
 * (no WHATWG fetch: no Request objects, web streams or AbortSignal timer per request),
 * the headers the router sends and nothing a client sent, shared in-flight requests,
 * and the subgraph's health. Both query-plan executors send through it.
 *
 * With `dedupe`, identical requests in flight at the same moment (same subgraph,
 * document, variables and identity headers) share one HTTP request; each sharer
 * parses the answer itself, so no two responses share objects that an executor then
 * merges into. Never for mutations: each must run.
 */
export class SubgraphClient {
  readonly health: SubgraphHealth;
  readonly counters: FetchCounters = { sent: 0, shared: 0 };
  readonly url: URL;
  readonly observer: FetchObserver | undefined;
  private readonly path: string;
  private readonly pool: Pool;
  private readonly routerSecret: string;
  private readonly dedupe: boolean;
  private readonly inFlight = new Map<string, Promise<SubgraphAnswer>>();

  constructor(url: string, timeoutMs: number, options: SubgraphClientOptions = {}) {
    this.url = new URL(url);
    this.path = `${this.url.pathname}${this.url.search}`;
    this.pool = new Pool(this.url.origin, {
      // Idle connections close after 10 s whatever the subgraph's Keep-Alive says: before
      // the subgraph closes them (65 s, server-kit's IDLE_KEEP_ALIVE_MS), so that no
      // request goes out on a connection the other side is closing.
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 10_000,
      // The subgraph's answer must start, and then end, within the time-out each.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    this.observer = options.observer;
    const observer = options.observer;
    this.health = new SubgraphHealth(
      options.name ?? url,
      options.logger,
      observer ? () => observer.failed('unavailable') : undefined,
    );
    this.routerSecret = options.routerSecret ?? DEVELOPMENT_ROUTER_SECRET;
    this.dedupe = options.dedupe ?? true;
  }

  /**
   * What the router sends with every subgraph request: its secret, the caller's
   * verified Authorization, the request id and the client address the router
   * determined itself (set, never appended: nothing from the client passes), and
   * while tracing the active span's traceparent (the fetch's).
   */
  headersFor(context: RouterContext): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [ROUTER_SECRET_HEADER]: this.routerSecret,
    };
    if (context.authorization) headers.authorization = context.authorization;
    if (context.requestId) headers['x-request-id'] = context.requestId;
    if (context.clientAddress) headers[CLIENT_ADDRESS_HEADER] = context.clientAddress;
    injectTraceHeaders(headers);
    return headers;
  }

  /** POSTs a request body (JSON text); shares an identical one in flight unless it is a mutation. */
  post(body: string, headers: Record<string, string>, path = this.path): Promise<SubgraphAnswer> {
    if (!this.dedupe || isMutation(body)) return this.send(path, headers, body);
    const key = `${path}\n${IDENTITY_HEADERS.map((h) => headers[h] ?? '').join('\n')}\n${body}`;
    let shared = this.inFlight.get(key);
    if (shared) {
      this.counters.shared += 1;
      return shared;
    }
    shared = this.send(path, headers, body).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, shared);
    return shared;
  }

  private async send(path: string, headers: Record<string, string>, body: string): Promise<SubgraphAnswer> {
    this.counters.sent += 1;
    const observer = this.observer;
    const startedAt = observer ? performance.now() : 0;
    try {
      const res = await this.pool.request({ path, method: 'POST', headers, body });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } finally {
      observer?.timing.observe((performance.now() - startedAt) / 1000);
    }
  }

  /** Closes the connections to the subgraph (router shutdown). */
  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** The value of a response header, several joined as fetch joins them. */
export function headerValue(answer: SubgraphAnswer, name: string): string | null {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? null);
}

/** Whether a subgraph request body carries a mutation (the executors print `mutation ...`). */
export function isMutation(body: string): boolean {
  const at = body.indexOf('"query":"');
  return at !== -1 && body.startsWith('mutation', at + 9);
}

/** A short, log-safe reason: the error's code or message, never its stack or a response body. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // An HTTP answer: 401/403 mean the router secret was refused, not an outage.
  const status = (error as { extensions?: { response?: { status?: number } } }).extensions?.response?.status;
  if (status === 401 || status === 403) return `HTTP ${status}: the subgraph refused the router secret`;
  if (status) return `HTTP ${status}`;
  // undici's errors carry their code themselves; fetch's wrapped them in `cause`.
  const own = (error as { code?: unknown }).code;
  if (typeof own === 'string' && own) return own;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
  return error.message.slice(0, 200);
}

/** Response names of a fetch's root fields, and per type those of its `_entities` fragments. */
interface FetchShape {
  rootFields: string[];
  entityFields: Map<string | undefined, string[]> | undefined;
}

// Fetch documents live as long as their cached query plan.
const shapes = new WeakMap<DocumentNode, FetchShape>();

function fieldNames(selectionSet: SelectionSetNode, into: string[] = []): string[] {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias?.value ?? selection.name.value;
      if (name !== '__typename' && !into.includes(name)) into.push(name);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      fieldNames(selection.selectionSet, into);
    }
  }
  return into;
}

function shapeOf(document: DocumentNode): FetchShape {
  const cached = shapes.get(document);
  if (cached) return cached;
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const shape: FetchShape = { rootFields: [], entityFields: undefined };
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind === Kind.FIELD && selection.name.value === '_entities' && selection.selectionSet) {
      shape.entityFields = new Map();
      for (const inner of selection.selectionSet.selections) {
        const type = inner.kind === Kind.INLINE_FRAGMENT ? inner.typeCondition?.name.value : undefined;
        const fields = shape.entityFields.get(type) ?? [];
        if (inner.kind === Kind.INLINE_FRAGMENT) fieldNames(inner.selectionSet, fields);
        else if (inner.kind === Kind.FIELD)
          fieldNames({ kind: Kind.SELECTION_SET, selections: [inner] }, fields);
        shape.entityFields.set(type, fields);
      }
    }
  }
  if (!shape.entityFields) shape.rootFields = operation ? fieldNames(operation.selectionSet) : [];
  shapes.set(document, shape);
  return shape;
}

/**
 * What a fetch to an unavailable subgraph answers: `data: null` and one
 * SERVICE_UNAVAILABLE error per field it asked for. Errors of an entity fetch carry
 * `['_entities', i, field]` paths and those of a root fetch `[field]`: the executors
 * turn both into paths of the client's response.
 */
export function unavailableResponse(
  document: DocumentNode | undefined,
  query: string | undefined,
  variables: Record<string, unknown> | undefined,
): SubgraphResponse {
  const parsed = document ?? safeParse(query);
  const error = (path: (string | number)[]): GraphQLFormattedError => ({
    message: 'This field is temporarily unavailable: the service that resolves it did not answer.',
    path,
    extensions: { code: SERVICE_UNAVAILABLE },
  });
  const errors: GraphQLFormattedError[] = [];
  const shape = parsed ? shapeOf(parsed) : undefined;
  if (shape?.entityFields) {
    const representations = (variables?.representations ?? []) as { __typename?: string }[];
    representations.forEach((representation, index) => {
      const fields =
        shape.entityFields!.get(representation?.__typename) ?? shape.entityFields!.get(undefined) ?? [];
      for (const field of fields) errors.push(error(['_entities', index, field]));
    });
  } else {
    for (const field of shape?.rootFields ?? []) errors.push(error([field]));
  }
  if (errors.length === 0)
    errors.push({ message: error([]).message, extensions: { code: SERVICE_UNAVAILABLE } });
  return { data: null, errors };
}

function safeParse(query: string | undefined): DocumentNode | undefined {
  try {
    return query ? parse(query) : undefined;
  } catch {
    return undefined;
  }
}
