import { STATUS_CODES } from 'node:http';
import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Logger } from '@fitness/server-kit';
import { DEVELOPMENT_ROUTER_SECRET, ROUTER_SECRET_HEADER } from '@fitness/server-kit';
import { type DocumentNode, type GraphQLFormattedError, Kind, parse, type SelectionSetNode } from 'graphql';
import { Pool } from 'undici';
import { CLIENT_ADDRESS_HEADER } from './clientAddress.js';
import type { RouterContext } from './context.js';

type Response = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

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
  ) {}

  get available(): boolean {
    return this.down === undefined;
  }

  failed(error: unknown): void {
    const now = Date.now();
    const reason = describeFailure(error);
    if (!this.down) {
      this.down = { since: now, loggedAt: now, failures: 1 };
      this.logger?.warn(
        { subgraph: this.name, reason },
        'subgraph unavailable; its fields answer null with an error',
      );
      return;
    }
    this.down.failures += 1;
    if (now - this.down.loggedAt >= OUTAGE_LOG_EVERY_MS) {
      this.logger?.warn(
        { subgraph: this.name, reason, failedRequests: this.down.failures, downForMs: now - this.down.since },
        'subgraph still unavailable',
      );
      this.down.loggedAt = now;
      this.down.failures = 0;
    }
  }

  succeeded(): void {
    if (!this.down) return;
    this.logger?.info(
      { subgraph: this.name, downForMs: Date.now() - this.down.since },
      'subgraph available again',
    );
    this.down = undefined;
  }
}

interface PoolAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Counts of subgraph requests sent and of fetches that shared one in flight. */
export interface FetchCounters {
  sent: number;
  shared: number;
}

/**
 * Headers that make two requests different for the subgraph: who asks (the token)
 * and from where (the client address it throttles by). The request id is not among
 * them: sharers of one request log under the first one's id.
 */
const IDENTITY_HEADERS = ['authorization', 'x-client-address'];

/**
 * The slice of fetch that RemoteGraphQLDataSource uses (status, headers.get, text,
 * json), answered by undici's pool.request: a string body in, the whole body read as
 * text once, no streams handed on.
 *
 * With `dedupe`, identical requests in flight at the same moment (same subgraph,
 * document, variables and identity headers) share one HTTP request; each sharer
 * parses the answer itself, so no two responses share objects that the executor
 * then merges into. Never for mutations: each must run.
 */
function poolFetcher(
  pool: Pool,
  dedupe: boolean,
  counters: FetchCounters,
): RemoteGraphQLDataSource['fetcher'] {
  const inFlight = new Map<string, Promise<PoolAnswer>>();
  const send = async (
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string },
  ) => {
    counters.sent += 1;
    const res = await pool.request({
      path,
      method: (init.method ?? 'POST') as 'POST',
      headers: init.headers ?? {},
      body: init.body ?? null,
    });
    return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
  };
  const fetcher = async (
    input: string,
    init: { method?: string; headers?: Record<string, string>; body?: string },
  ) => {
    const target = new URL(input);
    const path = `${target.pathname}${target.search}`;
    let answer: PoolAnswer;
    const body = init.body ?? '';
    if (dedupe && !isMutation(body)) {
      const headers = init.headers ?? {};
      // The gateway hands its headers over with lower-case names.
      const key = `${path}\n${IDENTITY_HEADERS.map((h) => headers[h] ?? '').join('\n')}\n${body}`;
      let shared = inFlight.get(key);
      if (shared) {
        counters.shared += 1;
      } else {
        shared = send(path, init).finally(() => inFlight.delete(key));
        inFlight.set(key, shared);
      }
      answer = await shared;
    } else {
      answer = await send(path, init);
    }
    const header = (name: string) => {
      const value = answer.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : (value ?? null);
    };
    return {
      ok: answer.status >= 200 && answer.status < 300,
      status: answer.status,
      statusText: STATUS_CODES[answer.status] ?? '',
      url: input,
      redirected: false,
      bodyUsed: true,
      headers: { get: header, has: (name: string) => header(name) !== null },
      text: async () => answer.text,
      json: async () => JSON.parse(answer.text) as unknown,
    };
  };
  return fetcher as unknown as RemoteGraphQLDataSource['fetcher'];
}

/** Whether a subgraph request body carries a mutation (the gateway prints `mutation ...`). */
function isMutation(body: string): boolean {
  const at = body.indexOf('"query":"');
  return at !== -1 && body.startsWith('mutation', at + 9);
}

/** A short, log-safe reason: the error's code or message, never its stack or a response body. */
function describeFailure(error: unknown): string {
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

/**
 * Sends subgraph requests with the caller's verified Authorization, a request id and
 * the client address the router determined itself, and nothing else from the client:
 * client-sent internal headers (x-client-address included) never pass. Subgraphs
 * trust x-client-address for that reason, so they must only be reachable by the router.
 * Requests go over one undici connection pool per subgraph with keep-alive, without
 * the WHATWG fetch layer (Request objects, web streams, an AbortSignal timer per
 * request), which took a third of the router's CPU under load.
 *
 * A subgraph that cannot be reached, times out or answers with an HTTP error does not
 * fail the whole operation: its fetch answers `data: null` with one
 * SERVICE_UNAVAILABLE error per field it was asked for, each carrying the path the
 * gateway maps onto the client's response, so the rest of the data still arrives.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  readonly health: SubgraphHealth;
  private readonly routerSecret: string;
  private readonly pool: Pool;
  /** Requests sent to the subgraph, and fetches that shared one already in flight. */
  readonly counters: FetchCounters;

  constructor(
    url: string,
    timeoutMs: number,
    options: {
      name?: string;
      logger?: Logger;
      routerSecret?: string;
      /** Share identical in-flight queries (never mutations). @default true */
      dedupe?: boolean;
    } = {},
  ) {
    const pool = new Pool(new URL(url).origin, {
      keepAliveTimeout: 10_000,
      // The subgraph's answer must start, and then end, within the time-out each.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const counters: FetchCounters = { sent: 0, shared: 0 };
    super({ url, fetcher: poolFetcher(pool, options.dedupe ?? true, counters) });
    this.counters = counters;
    this.pool = pool;
    this.health = new SubgraphHealth(options.name ?? url, options.logger);
    this.routerSecret = options.routerSecret ?? DEVELOPMENT_ROUTER_SECRET;
  }

  /** Closes the connections to the subgraph (router shutdown). */
  async close(): Promise<void> {
    await this.pool.close();
  }

  override async process(options: GraphQLDataSourceProcessOptions<RouterContext>): Promise<Response> {
    let response: Response;
    try {
      response = await super.process(options);
    } catch (error) {
      this.health.failed(error);
      return unavailableResponse(options);
    }
    this.health.succeeded();
    return response;
  }

  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<RouterContext>['willSendRequest']>>[0]): void {
    const headers = request.http?.headers;
    if (!headers) return;
    headers.set(ROUTER_SECRET_HEADER, this.routerSecret);
    if (context.authorization) headers.set('authorization', context.authorization);
    if (context.requestId) headers.set('x-request-id', context.requestId);
    // set, not append: nothing but the router's own value may reach the subgraph.
    if (context.clientAddress) headers.set(CLIENT_ADDRESS_HEADER, context.clientAddress);
    else headers.delete(CLIENT_ADDRESS_HEADER);
  }
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
 * What a fetch to an unavailable subgraph answers. Errors of an entity fetch carry
 * `['_entities', i, field]` paths and those of a root fetch `[field]`: the gateway
 * turns both into paths of the client's response.
 */
function unavailableResponse(options: GraphQLDataSourceProcessOptions<RouterContext>): Response {
  const document =
    ('document' in options ? (options.document as DocumentNode | undefined) : undefined) ??
    safeParse(options.request.query);
  const error = (path: (string | number)[]): GraphQLFormattedError => ({
    message: 'This field is temporarily unavailable: the service that resolves it did not answer.',
    path,
    extensions: { code: SERVICE_UNAVAILABLE },
  });
  const errors: GraphQLFormattedError[] = [];
  const shape = document ? shapeOf(document) : undefined;
  if (shape?.entityFields) {
    const representations = (options.request.variables?.representations ?? []) as { __typename?: string }[];
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
  return { data: null, errors } as Response;
}

function safeParse(query: string | undefined): DocumentNode | undefined {
  try {
    return query ? parse(query) : undefined;
  } catch {
    return undefined;
  }
}
