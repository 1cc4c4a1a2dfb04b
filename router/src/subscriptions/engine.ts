import { createHash } from 'node:crypto';
import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { buildOperationContext, executeQueryPlan } from '@apollo/gateway';
import { ANONYMOUS, type Viewer } from '@fitness/auth';
import {
  createFormatError,
  ErrorCode,
  type Logger,
  requestLogger,
  withoutSuggestions,
} from '@fitness/server-kit';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLFormattedError,
  getVariableValues,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import type { RouterContext } from '../context.js';
import { withFetchMerging } from '../executor/batching.js';
import { fetchFromSubgraph } from '../executor/fetch.js';
import {
  executePlan,
  type FetchSender,
  type PlanResult,
  type PreparedPlan,
} from '../executor/planExecutor.js';
import { compareWithOracle, type ExecutorMode, prepareOperation } from '../executor/routerExecutor.js';
import type { FetchObserver, SubgraphResponse } from '../executor/subgraphClient.js';
import { withCompletionErrors } from '../gateway.js';
import { SubgraphDataSource } from '../subgraphDataSource.js';
import { SchemaState, type SubscriptionPlan } from './schemaState.js';
import {
  DEFAULT_UPSTREAM_OPTIONS,
  Upstream,
  UpstreamClients,
  type UpstreamEvent,
  type UpstreamListener,
  type UpstreamOptions,
} from './upstream.js';

/** One client subscription's request, already authenticated. */
export interface SubscriptionRequest {
  query: string;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
  viewer: Viewer;
  /** The verified Authorization value, forwarded only for viewer-dependent subscriptions. */
  authorization: string | undefined;
  requestId: string;
  clientAddress?: string | undefined;
}

/** Where results go: a WebSocket subscription, a multipart HTTP response... */
export interface Subscriber {
  /** One result, serialized once for every subscriber of its group: `{"data":...,"errors":...}`. */
  next(serializedResult: string): void;
  /** The stream ends with these errors; no `complete` follows. */
  error(errors: readonly GraphQLFormattedError[]): void;
  /** The stream ends normally. */
  complete(): void;
}

export interface SubscriptionHandle {
  /** The subscriber leaves; idempotent. */
  close(): void;
}

export interface EngineLimits {
  /**
   * Share upstream subscriptions and executions between subscribers. Off only to
   * measure what sharing saves (the fan-out benchmark). @default true
   */
  sharing: boolean;
  /** Active subscriptions in this router process. @default 50_000 */
  maxSubscriptions: number;
  /** Distinct prepared operations kept (parse, validation, plan). @default 1_000 */
  operationCacheSize: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  sharing: true,
  maxSubscriptions: 50_000,
  operationCacheSize: 1_000,
};

export interface EngineStats {
  subscriptions: number;
  groups: number;
  upstreams: number;
  upstreamConnections: number;
  eventsReceived: number;
  executions: number;
  messagesDelivered: number;
}

interface PreparedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  plan: SubscriptionPlan;
  viewerDependent: boolean;
  /** The per-event plan, prepared for the router's executor on first use. */
  executable?: PreparedPlan;
}

/** A subscribe that failed before any event: errors for the client, formatted. */
export class SubscribeRefused extends Error {
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

const refuse = (message: string, code: string = ErrorCode.BAD_USER_INPUT) =>
  new SubscribeRefused([{ message, extensions: { code } }]);

/** JSON with sorted keys, so equal variables give equal group keys. */
function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');

/**
 * The router's federated subscription engine. @apollo/gateway plans subscriptions
 * but will not execute them; this engine does, on the gateway's public exports:
 *
 * - one upstream graphql-ws subscription per distinct primary fetch (subgraph,
 *   operation, variables, credentials), however many clients need it;
 * - one group per distinct client operation and variables on top of it: the rest
 *   of the plan runs once per event per group, through the gateway's own executor,
 *   and the result is serialized once and written to every subscriber;
 * - latest event wins while a group is busy (events are full snapshots), and a
 *   subscriber joining a live group gets its latest result at once.
 *
 * Results that depend on the caller (any "Self only" field) are grouped per user
 * and run with that user's credentials; all others are shared and run anonymously.
 */
export class SubscriptionEngine {
  private state: SchemaState | undefined;
  /** Events whose result the two executors answered differently (compare mode). */
  mismatches = 0;
  /** Entity fetches sent inside a sibling's request. */
  mergedFetches = 0;
  private schemaVersion = 0;
  private baseServices: ServiceMap = {};
  private readonly prepared = new Map<string, PreparedOperation>();
  private readonly groups = new Map<string, Group>();
  private readonly upstreams = new Map<string, Upstream>();
  private readonly clients: UpstreamClients;
  private readonly formatError: ReturnType<typeof createFormatError>;
  private activeSubscriptions = 0;
  private unshared = 0;
  private readonly counters = { eventsReceived: 0, executions: 0, messagesDelivered: 0 };

  constructor(
    private readonly options: {
      logger: Logger;
      /** ROUTER_SUBGRAPH_SECRET, for the engine's own subgraph requests. */
      routerSecret?: string;
      /** Share identical in-flight subgraph queries (SUBGRAPH_DEDUP). @default true */
      subgraphDedup?: boolean;
      /** Where each subgraph's fetches for subscription events are measured (the router's metrics). */
      fetchObserver?: (subgraph: string) => FetchObserver;
      /** Which executor runs the rest of each plan (ROUTER_EXECUTOR). @default 'router' */
      executorMode?: ExecutorMode;
      /** Merge sibling entity fetches (SUBGRAPH_FETCH_MERGING). @default true */
      mergeFetches?: boolean;
      /** Production: no name suggestions in messages, no subgraph names in errors. */
      hideSchemaDetails?: boolean;
      /** Extra validation rules (operation limits), as on HTTP. */
      validationRules?: readonly import('graphql').ValidationRule[];
      /**
       * Admits a valid operation with its coerced variables before it is planned (demand
       * control), or throws the GraphQLError to answer, as on HTTP.
       */
      admit?: (
        schema: import('graphql').GraphQLSchema,
        document: DocumentNode,
        operationName: string | undefined,
        variables: Record<string, unknown>,
        /** The subscribing request's, for a line admission writes (an operation over the cost limit). */
        requestId: string,
      ) => void;
      subgraphUrls: Record<string, string>;
      subgraphTimeoutMs: number;
      limits?: Partial<EngineLimits>;
      upstream?: Partial<UpstreamOptions>;
    },
  ) {
    this.clients = new UpstreamClients(options.logger, { ...DEFAULT_UPSTREAM_OPTIONS, ...options.upstream });
    this.formatError = createFormatError(options.logger, {
      hideSchemaDetails: options.hideSchemaDetails ?? false,
    });
  }

  private get limits(): EngineLimits {
    return { ...DEFAULT_ENGINE_LIMITS, ...this.options.limits };
  }

  get ready(): boolean {
    return this.state !== undefined;
  }

  stats(): EngineStats {
    return {
      subscriptions: this.activeSubscriptions,
      groups: this.groups.size,
      upstreams: this.upstreams.size,
      upstreamConnections: this.clients.size,
      ...this.counters,
    };
  }

  /**
   * A new supergraph: subscriptions planned against the old one end with
   * SUBSCRIPTION_SCHEMA_RELOAD, so clients subscribe again on the new API.
   */
  updateSchema(supergraphSdl: string, apiSchema: import('graphql').GraphQLSchema): void {
    if (this.state?.supergraphSdl === supergraphSdl) return;
    const next = new SchemaState(supergraphSdl, apiSchema);
    const previous = this.state;
    this.state = next;
    this.schemaVersion += 1;
    this.prepared.clear();
    this.baseServices = Object.fromEntries(
      [...next.subgraphUrls].map(([name, url]) => [
        name,
        new SubgraphDataSource(
          this.options.subgraphUrls[name.toLowerCase()] ?? url,
          this.options.subgraphTimeoutMs,
          {
            name,
            logger: this.options.logger,
            ...(this.options.routerSecret ? { routerSecret: this.options.routerSecret } : {}),
            dedupe: this.options.subgraphDedup ?? true,
            ...(this.options.fetchObserver ? { observer: this.options.fetchObserver(name) } : {}),
          },
        ),
      ]),
    );
    if (previous) {
      const groups = [...this.groups.values()];
      for (const group of groups) {
        group.end([
          {
            message: 'The API was updated; subscribe again.',
            extensions: { code: 'SUBSCRIPTION_SCHEMA_RELOAD' },
          },
        ]);
      }
    }
  }

  /**
   * Subscribes, or throws {@link SubscribeRefused} with the errors to send (invalid
   * operation, limits). Results arrive through `subscriber`.
   */
  subscribe(request: SubscriptionRequest, subscriber: Subscriber): SubscriptionHandle {
    const state = this.state;
    if (!state) throw refuse('The router is starting; try again shortly.', 'SERVICE_UNAVAILABLE');
    if (this.activeSubscriptions >= this.limits.maxSubscriptions) {
      throw refuse('This router has too many subscriptions; try again later.', ErrorCode.RATE_LIMITED);
    }
    const prepared = this.prepare(state, request.query, request.operationName ?? undefined);
    // Only the operation's declared variables, coerced by its types: anything else a
    // client sends is refused here rather than carried into keys and subgraph requests.
    const coerced = getVariableValues(
      state.apiGraphQLSchema,
      prepared.operation.variableDefinitions ?? [],
      request.variables ?? {},
      { maxErrors: 5 },
    );
    if (coerced.errors) {
      const hide = this.options.hideSchemaDetails ?? false;
      throw new SubscribeRefused(
        coerced.errors.map((e) => ({
          message: hide ? withoutSuggestions(e.message) : e.message,
          extensions: { code: ErrorCode.BAD_USER_INPUT },
        })),
      );
    }
    const variables = coerced.coerced;
    try {
      this.options.admit?.(
        state.apiGraphQLSchema,
        prepared.document,
        request.operationName ?? undefined,
        variables,
        request.requestId,
      );
    } catch (error) {
      if (error instanceof GraphQLError) {
        const { http: _status, ...extensions } = error.extensions;
        throw new SubscribeRefused([{ message: error.message, extensions }]);
      }
      throw error;
    }
    // Planned only once admitted: demand control comes before planning.
    try {
      void prepared.plan;
    } catch (error) {
      this.options.logger.error(
        { err: error, requestId: request.requestId },
        'could not plan a subscription',
      );
      throw refuse('This subscription cannot be planned.', ErrorCode.INTERNAL_SERVER_ERROR);
    }
    if (!this.limits.sharing) this.unshared += 1;
    const partition = !this.limits.sharing
      ? `unshared:${this.unshared}`
      : prepared.viewerDependent
        ? `user:${request.viewer.userId ?? 'anonymous'}`
        : 'public';
    const groupKey = digest(
      String(this.schemaVersion),
      request.query,
      request.operationName ?? '',
      stableJson(variables),
      partition,
    );
    let group = this.groups.get(groupKey);
    if (!group) {
      const context: RouterContext = prepared.viewerDependent
        ? {
            viewer: request.viewer,
            authorization: request.authorization,
            requestId: request.requestId,
            clientAddress: request.clientAddress,
          }
        : // Shared work is nobody's request: no credentials, no caller address.
          {
            viewer: ANONYMOUS,
            authorization: undefined,
            requestId: `subscription-${groupKey.slice(0, 12)}`,
            clientAddress: undefined,
          };
      // The upstream first: if it cannot be had, no half-made group stays behind.
      const upstream = this.upstreamFor(state, prepared, variables, context.authorization, partition);
      group = new Group(groupKey, this, state, prepared, request, variables, context);
      this.groups.set(groupKey, group);
      group.attach(upstream);
    }
    this.activeSubscriptions += 1;
    let released = false;
    const release = () => {
      if (released) return false;
      released = true;
      this.activeSubscriptions -= 1;
      return true;
    };
    const member = group.add(subscriber, release);
    return {
      close: () => {
        if (release()) group.remove(member);
      },
    };
  }

  private prepare(state: SchemaState, query: string, operationName: string | undefined): PreparedOperation {
    const key = `${operationName ?? ''}\u0000${query}`;
    const cached = this.prepared.get(key);
    if (cached) {
      // Refresh its place: the cache evicts the least recently used.
      this.prepared.delete(key);
      this.prepared.set(key, cached);
      return cached;
    }
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: 5_000 });
    } catch (error) {
      throw refuse((error as Error).message, 'GRAPHQL_PARSE_FAILED');
    }
    const problems = validate(state.apiGraphQLSchema, document, [
      ...specifiedRules,
      ...(this.options.validationRules ?? []),
    ]);
    if (problems.length) {
      const hide = this.options.hideSchemaDetails ?? false;
      throw new SubscribeRefused(
        problems.map((p) => ({
          message: hide ? withoutSuggestions(p.message) : p.message,
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        })),
      );
    }
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition',
    );
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    if (!operation || (!operationName && operations.length > 1)) {
      throw refuse('Name the operation to run with operationName.', 'OPERATION_RESOLUTION_FAILURE');
    }
    if (operation.operation !== 'subscription') throw refuse('Only subscriptions are served here.');
    let plan: SubscriptionPlan | undefined;
    const prepared: PreparedOperation = {
      document,
      operation,
      // Planned on first use, which comes after admission (demand control); subscribe
      // reads it first and logs a failure with the subscribing request's id.
      get plan() {
        plan ??= state.plan(document, operationName);
        return plan;
      },
      viewerDependent: state.isViewerDependent(document, operation),
    };
    this.prepared.set(key, prepared);
    if (this.prepared.size > this.limits.operationCacheSize) {
      this.prepared.delete(this.prepared.keys().next().value as string);
    }
    return prepared;
  }

  private upstreamFor(
    state: SchemaState,
    prepared: PreparedOperation,
    variables: Record<string, unknown>,
    authorization: string | undefined,
    partition: string,
  ): Upstream {
    const { primary } = prepared.plan;
    const primaryVariables: Record<string, unknown> = {};
    for (const name of primary.variableUsages ?? []) {
      if (variables[name] !== undefined) primaryVariables[name] = variables[name];
    }
    const url =
      this.options.subgraphUrls[primary.serviceName.toLowerCase()] ??
      state.subgraphUrls.get(primary.serviceName);
    if (!url) throw refuse(`No URL for subgraph ${primary.serviceName}.`, ErrorCode.INTERNAL_SERVER_ERROR);
    const key = digest(
      url,
      primary.operation,
      stableJson(primaryVariables),
      authorization ?? '',
      this.limits.sharing ? '' : partition,
    );
    let upstream = this.upstreams.get(key);
    if (!upstream) {
      upstream = new Upstream(
        key,
        this.clients.acquire(url, authorization),
        {
          query: primary.operation,
          variables: primaryVariables,
          ...(primary.operationName ? { operationName: primary.operationName } : {}),
        },
        (idle) => {
          if (this.upstreams.get(idle.key) === idle) this.upstreams.delete(idle.key);
        },
      );
      this.upstreams.set(key, upstream);
    }
    return upstream;
  }

  /** @internal Called by groups. */
  forgetGroup(group: Group): void {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  /** @internal Runs the plan for one event; returns the serialized result. */
  async execute(group: Group, event: UpstreamEvent): Promise<string> {
    this.counters.executions += 1;
    const mode = this.options.executorMode ?? 'router';
    let result: { data?: unknown; errors?: readonly GraphQLError[] };
    try {
      result =
        mode === 'gateway'
          ? await this.executeOnGateway(group, event, this.baseServices)
          : await this.executeOnRouter(group, event, mode);
    } catch (error) {
      result = {
        data: null,
        errors: [new GraphQLError('Internal server error', { originalError: error as Error })],
      };
    }
    // One execution for every subscriber of the group: its lines name the group's request id.
    const errors = result.errors?.map((e) =>
      this.formatError(
        e instanceof GraphQLError ? e.toJSON() : { message: String(e) },
        e,
        group.context.requestId,
      ),
    );
    return JSON.stringify(
      errors?.length ? { data: result.data ?? null, errors } : { data: result.data ?? null },
    );
  }

  /** The event's data as the answer of the primary fetch (a copy: the executors merge into it). */
  private eventResponse(event: UpstreamEvent): SubgraphResponse {
    return {
      data: event.data ? structuredClone(event.data) : null,
      ...(event.errors ? { errors: event.errors.map((e) => ({ ...e })) } : {}),
    } as SubgraphResponse;
  }

  /** The rest of the plan on the router's executor (ROUTER_EXECUTOR=router or compare). */
  private async executeOnRouter(group: Group, event: UpstreamEvent, mode: ExecutorMode) {
    const { plan } = group.prepared;
    const state = group.state;
    let executable = group.prepared.executable;
    if (!executable) {
      const prepared = prepareOperation(
        state.apiSchema,
        group.prepared.document,
        group.prepared.operation,
        plan.perEvent,
        this.options.mergeFetches !== false,
      );
      if ('gatewayOnly' in prepared) return this.executeOnGateway(group, event, this.baseServices);
      executable = prepared;
      group.prepared.executable = prepared;
    }
    const direct: FetchSender = (fetch, variables) => {
      if (fetch === plan.primary) return Promise.resolve(this.eventResponse(event));
      const source = this.baseServices[fetch.serviceName];
      if (!(source instanceof SubgraphDataSource)) {
        return Promise.reject(new Error(`Couldn't find service with name "${fetch.serviceName}"`));
      }
      return fetchFromSubgraph(source.client, fetch, variables, group.context);
    };
    const send = withFetchMerging(direct, this.options.mergeFetches !== false, (n) => {
      this.mergedFetches += n;
    });
    const ready = executable;
    const run = (sender: FetchSender) => executePlan(ready, state.types, group.variables, sender);
    if (mode !== 'compare') return run(send);
    return compareWithOracle(
      send,
      run,
      (services) => this.executeOnGateway(group, event, services),
      Object.keys(this.baseServices),
      (details) => {
        this.mismatches += 1;
        this.options.logger.error(
          { operationName: group.operationName, requestId: group.context.requestId, ...details },
          'executor mismatch: the router executor and the gateway executor answered differently',
        );
      },
    );
  }

  /** The rest of the plan on @apollo/gateway's executeQueryPlan (ROUTER_EXECUTOR=gateway, and the oracle). */
  private async executeOnGateway(group: Group, event: UpstreamEvent, services: ServiceMap) {
    const { plan } = group.prepared;
    const real = services[plan.primary.serviceName];
    // The primary fetch is answered with the event itself; every other fetch, the
    // primary subgraph's entity fetches included, goes to the real subgraphs.
    const primarySource: GraphQLDataSource = {
      process: (options) => {
        if (options.request.query === plan.primary.operation) {
          return Promise.resolve(
            this.eventResponse(event) as Awaited<ReturnType<GraphQLDataSource['process']>>,
          );
        }
        if (!real) return Promise.reject(new Error(`no data source for ${plan.primary.serviceName}`));
        return real.process(options);
      },
    };
    const serviceMap: ServiceMap = { ...services, [plan.primary.serviceName]: primarySource };
    const requestContext = {
      request: { query: group.query, variables: group.variables, operationName: group.operationName },
      context: group.context,
      logger: requestLogger(this.options.logger, group.context.requestId),
      metrics: { captureTraces: false },
      cache: undefined,
      overallCachePolicy: undefined,
    } as unknown as Parameters<typeof executeQueryPlan>[2];
    const operationContext = buildOperationContext({
      schema: group.state.apiGraphQLSchema,
      operationDocument: group.prepared.document,
      ...(group.operationName ? { operationName: group.operationName } : {}),
    });
    return withCompletionErrors(
      await executeQueryPlan(
        plan.perEvent,
        serviceMap,
        requestContext,
        operationContext,
        group.state.supergraphSchema,
        group.state.apiSchema,
      ),
    ) as PlanResult;
  }

  /** @internal */
  countEvent(): void {
    this.counters.eventsReceived += 1;
  }

  /** @internal */
  countDelivered(n: number): void {
    this.counters.messagesDelivered += n;
  }

  /** Ends every subscription (server shutdown) and closes upstream connections. */
  async close(): Promise<void> {
    for (const group of [...this.groups.values()]) group.complete();
    await this.clients.close();
    await Promise.all(
      Object.values(this.baseServices).map((source) =>
        source instanceof SubgraphDataSource ? source.close() : undefined,
      ),
    );
  }
}

interface Member {
  subscriber: Subscriber;
  /** Counts the subscription as gone; false if it already was. */
  release(): boolean;
}

/**
 * Every subscriber of one client operation with the same variables (and, for
 * viewer-dependent operations, the same user).
 */
class Group implements UpstreamListener {
  private readonly members = new Set<Member>();
  private upstream: Upstream | undefined;
  private pending: UpstreamEvent | undefined;
  private running = false;
  private ended = false;
  /** The last result, serialized; sent at once to anyone who joins. */
  latest: string | undefined;
  readonly query: string;
  readonly operationName: string | undefined;

  constructor(
    readonly key: string,
    private readonly engine: SubscriptionEngine,
    readonly state: SchemaState,
    readonly prepared: PreparedOperation,
    request: SubscriptionRequest,
    readonly variables: Record<string, unknown>,
    readonly context: RouterContext,
  ) {
    this.query = request.query;
    this.operationName = request.operationName ?? undefined;
  }

  attach(upstream: Upstream): void {
    this.upstream = upstream;
    upstream.add(this);
    if (upstream.latest) this.onEvent(upstream.latest, false);
  }

  add(subscriber: Subscriber, release: () => boolean): Member {
    const member = { subscriber, release };
    this.members.add(member);
    if (this.latest !== undefined) {
      subscriber.next(this.latest);
      this.engine.countDelivered(1);
    }
    return member;
  }

  remove(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0) this.dispose();
  }

  onEvent(event: UpstreamEvent, fresh = true): void {
    if (this.ended) return;
    if (fresh) this.engine.countEvent();
    this.pending = event;
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending && !this.ended) {
        const event = this.pending;
        this.pending = undefined;
        const serialized = await this.engine.execute(this, event);
        if (this.ended) break;
        this.latest = serialized;
        for (const member of this.members) member.subscriber.next(serialized);
        this.engine.countDelivered(this.members.size);
      }
    } finally {
      this.running = false;
    }
  }

  onEnd(error: Error | undefined): void {
    if (!error) {
      this.complete();
      return;
    }
    this.end([
      {
        message: `The live source of this subscription failed (${error.message}); subscribe again to resume.`,
        extensions: { code: 'SUBSCRIPTION_UPSTREAM_FAILED' },
      },
    ]);
  }

  end(errors: readonly GraphQLFormattedError[]): void {
    const members = this.finish();
    for (const m of members) m.subscriber.error(errors);
  }

  complete(): void {
    const members = this.finish();
    for (const m of members) m.subscriber.complete();
  }

  private finish(): Member[] {
    const members = [...this.members];
    this.dispose();
    for (const m of members) m.release();
    return members;
  }

  private dispose(): void {
    if (this.ended) return;
    this.ended = true;
    this.members.clear();
    this.engine.forgetGroup(this);
    this.upstream?.remove(this);
  }
}
