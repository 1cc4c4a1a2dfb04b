import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import {
  buildOperationContext,
  executeQueryPlan,
  type GraphQLDataSource,
  type ServiceMap,
} from '@apollo/gateway';
import type { FetchNode, PlanNode, QueryPlan, QueryPlanner } from '@apollo/query-planner';
import { prettyFormatQueryPlan } from '@apollo/query-planner';
import type { Logger } from '@fitness/server-kit';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';
import type { RouterContext } from '../context.js';
import { QueryPlanTraces, type TraceMetrics } from '../studio/queryPlanTrace.js';
import { withFetchMerging } from './batching.js';
import { type CachePolicyRestrictor, fetchFromSubgraph } from './fetch.js';
import { joinRootFetches } from './joining.js';
import {
  executePlan,
  type FetchSender,
  type PlanResult,
  type PreparedPlan,
  SupergraphTypes,
} from './planExecutor.js';
import { compileShaper, hasIntrospection } from './shape.js';
import type { SubgraphClient, SubgraphResponse } from './subgraphClient.js';

/**
 * Which executor runs query plans (ROUTER_EXECUTOR): the router's own, the
 * gateway's, or both, the gateway's fed the router's recorded subgraph answers as the
 * oracle, with any difference answered as an EXECUTOR_MISMATCH error (for tests).
 */
export type ExecutorMode = 'router' | 'gateway' | 'compare';

export const EXECUTOR_MISMATCH = 'EXECUTOR_MISMATCH';

/** What the gateway's executor receives from Apollo Server (the parts read here). */
export interface GatewayRequestContext {
  request: {
    query?: string;
    operationName?: string | null;
    variables?: Record<string, unknown>;
    http?: { headers: { get(name: string): string | null } };
  };
  document: DocumentNode;
  context: RouterContext;
  overallCachePolicy?: Partial<CachePolicyRestrictor>;
  logger?: Logger;
  /** Apollo Server's usage reporting: whether to capture this operation's trace, and where it goes. */
  metrics?: TraceMetrics;
}

/** The gateway's state after it loaded a supergraph (@apollo/gateway 2.14; read, never written). */
export interface GatewayState {
  queryPlanner: QueryPlanner;
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  schema: GraphQLSchema;
  serviceMap: Record<string, { dataSource: GraphQLDataSource }>;
}

/** A plan the router's executor runs, or the reason the gateway's must (introspection, @defer). */
type Prepared = (PreparedPlan & { definition: OperationDefinitionNode }) | { gatewayOnly: string };

/** Per supergraph: type tests and the operations prepared against it. */
interface Generation {
  apiSchema: Schema;
  types: SupergraphTypes;
  operations: WeakMap<DocumentNode, Map<string, Prepared>>;
}

function fragmentsOf(document: DocumentNode): FragmentDefinitionNode[] {
  return document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
}

/** Why the router's executor cannot run this plan, if it cannot. */
function unsupported(node: PlanNode | QueryPlan['node']): string | undefined {
  if (!node) return undefined;
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      for (const child of node.nodes) {
        const reason = unsupported(child);
        if (reason) return reason;
      }
      return undefined;
    case 'Flatten':
      return unsupported(node.node);
    case 'Fetch':
      return node.contextRewrites?.length ? '@fromContext' : undefined;
    case 'Condition':
      return unsupported(node.ifClause) ?? unsupported(node.elseClause);
    case 'Defer':
      return '@defer';
    case 'Subscription':
      return 'subscription';
  }
}

/**
 * Prepares the operation a document names for the router's executor: its plan, the
 * operation as federation reads it, and its compiled shaping. The shaping operation
 * is built as the gateway builds it for result shaping (the named operation and the
 * document's fragments, not validated again). With `joinFetches`, root fetches that a
 * later fetch of the same subgraph can take along are moved beside it (joining.ts).
 */
export function prepareOperation(
  apiSchema: Schema,
  document: DocumentNode,
  definition: OperationDefinitionNode,
  plan: QueryPlan,
  joinFetches: boolean,
): PreparedPlan | { gatewayOnly: string } {
  const reason = unsupported(plan.node);
  if (reason) return { gatewayOnly: reason };
  const operation = operationFromDocument(
    apiSchema,
    { kind: Kind.DOCUMENT, definitions: [definition, ...fragmentsOf(document)] },
    { validate: false },
  );
  if (hasIntrospection(operation)) return { gatewayOnly: 'introspection' };
  const node = joinFetches ? joinRootFetches(plan.node) : plan.node;
  return { plan, node, operation, shaper: compileShaper(operation) };
}

/** A result as clients read it: data, and the errors as their JSON (order kept). */
function comparable(result: PlanResult): { data: string; errors: string[] } {
  return {
    data: JSON.stringify(result.data ?? null),
    errors: (result.errors ?? []).map((e) =>
      JSON.stringify(e instanceof GraphQLError ? e.toJSON() : { message: (e as Error).message }),
    ),
  };
}

/** A copy of a subgraph response, with GraphQLError-free JSON. */
function copy(response: SubgraphResponse): SubgraphResponse {
  return JSON.parse(JSON.stringify(response)) as SubgraphResponse;
}

const recordKey = (serviceName: string, query: string, variables: unknown) =>
  `${serviceName}\n${query}\n${JSON.stringify(variables ?? {})}`;

/**
 * Runs `ours` with a sender that records every answer, then the gateway's executor on
 * the same plan with data sources that replay those answers (a request the router did
 * not send answers an error). Same answers in, so the two results must be equal:
 * data byte for byte, the same errors (any order, as fetches finish in any order).
 */
export async function compareWithOracle(
  send: FetchSender,
  ours: (send: FetchSender) => Promise<PlanResult>,
  oracle: (services: ServiceMap) => Promise<PlanResult>,
  serviceNames: Iterable<string>,
  onMismatch: (details: { ours: unknown; oracle: unknown }) => void,
): Promise<PlanResult> {
  const recorded = new Map<string, SubgraphResponse>();
  const mine = await ours(async (fetch: FetchNode, variables) => {
    const key = recordKey(fetch.serviceName, fetch.operation, variables);
    const response = await send(fetch, variables);
    recorded.set(key, copy(response));
    return response;
  });
  const services: ServiceMap = {};
  for (const name of serviceNames) {
    services[name] = {
      process: async (options) => {
        const answer = recorded.get(recordKey(name, options.request.query ?? '', options.request.variables));
        return (
          answer ? copy(answer) : { errors: [{ message: `No recorded answer of ${name} for this fetch.` }] }
        ) as never;
      },
    };
  }
  let reference: PlanResult;
  try {
    reference = await oracle(services);
  } catch (error) {
    reference = { errors: [new GraphQLError(`oracle threw: ${(error as Error).message}`)] };
  }
  const a = comparable(mine);
  const b = comparable(reference);
  if (a.data === b.data && JSON.stringify([...a.errors].sort()) === JSON.stringify([...b.errors].sort())) {
    return mine;
  }
  onMismatch({ ours: a, oracle: b });
  return {
    data: null,
    errors: [
      new GraphQLError('The router executor and the gateway executor answered differently.', {
        extensions: { code: EXECUTOR_MISMATCH },
      }),
    ],
  };
}

/**
 * The router's executor for the gateway's plans (see planExecutor.ts), behind
 * @apollo/gateway's executor interface: plans made by the gateway's query planner,
 * cached per parsed document with the compiled shaping beside them; subgraph requests
 * through each subgraph's SubgraphClient. Operations it does not run (introspection,
 * @defer, @fromContext) go to the gateway's executor, as does everything with
 * ROUTER_EXECUTOR=gateway.
 */
export class RouterExecutor {
  private generation: Generation | undefined;
  /** Operations answered EXECUTOR_MISMATCH (compare mode). */
  mismatches = 0;
  /** Fetches sent inside a sibling's request; operations answered by an identical one in flight. */
  readonly counters = { merged: 0, sharedOperations: 0 };
  /** Identical queries in flight (INBOUND_DEDUP), by document, variables and caller. */
  private readonly inFlight = new Map<string, Promise<PlanResult>>();

  constructor(
    private readonly mode: ExecutorMode,
    private readonly options: {
      logger: Logger;
      exposeQueryPlans: boolean;
      /** Merge sibling entity fetches to one subgraph into one request. @default true */
      mergeFetches?: boolean;
      /** Share one execution between identical queries in flight with the same credentials. @default false */
      inboundDedup?: boolean;
    },
  ) {}

  private generationFor(state: GatewayState): Generation {
    if (this.generation?.apiSchema !== state.apiSchema) {
      this.generation = {
        apiSchema: state.apiSchema,
        types: new SupergraphTypes(state.supergraphSchema),
        operations: new WeakMap(),
      };
    }
    return this.generation;
  }

  private prepare(state: GatewayState, generation: Generation, ctx: GatewayRequestContext): Prepared {
    const operationName = ctx.request.operationName ?? undefined;
    let byName = generation.operations.get(ctx.document);
    const cached = byName?.get(operationName ?? '');
    if (cached) return cached;
    // Throws for a missing or ambiguous operation; the gateway's executor then answers it.
    const { operation: definition } = buildOperationContext({
      schema: state.schema,
      operationDocument: ctx.document,
      ...(operationName ? { operationName } : {}),
    });
    const planned = state.queryPlanner.buildQueryPlan(
      operationFromDocument(state.apiSchema, ctx.document, { operationName }),
    );
    const prepared = prepareOperation(
      state.apiSchema,
      ctx.document,
      definition,
      planned,
      this.options.mergeFetches !== false,
    );
    const entry: Prepared = 'gatewayOnly' in prepared ? prepared : { ...prepared, definition };
    if (!byName) {
      byName = new Map();
      generation.operations.set(ctx.document, byName);
    }
    byName.set(operationName ?? '', entry);
    return entry;
  }

  /** Runs one operation; `gateway` is the gateway's own executor (fallback and oracle). */
  async execute(
    state: GatewayState,
    ctx: GatewayRequestContext,
    gateway: (ctx: GatewayRequestContext) => Promise<PlanResult & { extensions?: Record<string, unknown> }>,
    oracle: (
      plan: QueryPlan,
      services: ServiceMap,
      definition: OperationDefinitionNode,
    ) => Promise<PlanResult>,
  ): Promise<PlanResult & { extensions?: Record<string, unknown> }> {
    if (this.mode === 'gateway') return gateway(ctx);
    const generation = this.generationFor(state);
    let prepared: Prepared;
    try {
      prepared = this.prepare(state, generation, ctx);
    } catch {
      return gateway(ctx); // the gateway reports what is wrong with the operation
    }
    if ('gatewayOnly' in prepared) return gateway(ctx);
    const { definition } = prepared;
    if (definition.variableDefinitions?.length) {
      const { errors } = getVariableValues(
        state.schema,
        definition.variableDefinitions,
        ctx.request.variables ?? {},
      );
      if (errors) return { errors: [...errors] };
    }
    const run = () => this.run(state, generation, prepared, ctx, oracle);
    const result =
      this.options.inboundDedup && definition.operation === 'query' && this.mode === 'router'
        ? { ...(await this.shared(ctx, run)) }
        : await run();
    return this.withQueryPlan(result, prepared.plan, ctx);
  }

  /**
   * One execution for identical queries in flight at once (INBOUND_DEDUP): same
   * document, operation, variables, token and client address. Each caller gets its own
   * result object; the data underneath is shared, and only read from then on.
   */
  private shared(ctx: GatewayRequestContext, run: () => Promise<PlanResult>): Promise<PlanResult> {
    const key = [
      ctx.request.query ?? '',
      ctx.request.operationName ?? '',
      JSON.stringify(ctx.request.variables ?? {}),
      ctx.context.authorization ?? '',
      ctx.context.clientAddress ?? '',
    ].join('\u0000');
    const running = this.inFlight.get(key);
    if (running) {
      this.counters.sharedOperations += 1;
      return running;
    }
    const started = run().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  private run(
    state: GatewayState,
    generation: Generation,
    prepared: PreparedPlan & { definition: OperationDefinitionNode },
    ctx: GatewayRequestContext,
    oracle: (
      plan: QueryPlan,
      services: ServiceMap,
      definition: OperationDefinitionNode,
    ) => Promise<PlanResult>,
  ): Promise<PlanResult> {
    const policy = ctx.overallCachePolicy?.restrict
      ? (ctx.overallCachePolicy as CachePolicyRestrictor)
      : undefined;
    const direct: FetchSender = (fetch, fetchVariables) => {
      const source = state.serviceMap[fetch.serviceName]?.dataSource as
        | { client?: SubgraphClient }
        | undefined;
      if (!source?.client)
        return Promise.reject(new Error(`Couldn't find service with name "${fetch.serviceName}"`));
      return fetchFromSubgraph(
        source.client,
        fetch,
        fetchVariables,
        ctx.context,
        policy,
        ctx.metrics?.captureTraces === true,
      );
    };
    const merged = withFetchMerging(direct, this.options.mergeFetches !== false, (n) => {
      this.counters.merged += n;
    });
    // Usage reporting captures this operation: each fetch asks for the subgraph's trace.
    const traces = ctx.metrics?.captureTraces
      ? new QueryPlanTraces(ctx.metrics, this.options.logger, ctx.context.requestId)
      : undefined;
    const send = traces ? traces.recording(merged) : merged;
    const execute = (sender: FetchSender) =>
      executePlan(prepared, generation.types, ctx.request.variables, sender);
    if (traces) {
      return execute(send).finally(() => traces.finish(prepared.plan));
    }
    if (this.mode !== 'compare') return execute(send);
    return compareWithOracle(
      send,
      execute,
      (services) => oracle(prepared.plan, services, prepared.definition),
      Object.keys(state.serviceMap),
      (details) => {
        this.mismatches += 1;
        this.options.logger.error(
          { operationName: ctx.request.operationName, requestId: ctx.context.requestId, ...details },
          'executor mismatch: the router executor and the gateway executor answered differently',
        );
      },
    );
  }

  /**
   * The query plan in `extensions` when a client asks for it with the
   * Apollo-Query-Plan-Experimental header (Sandbox's query plan view), outside production.
   */
  private withQueryPlan<T extends { extensions?: Record<string, unknown> }>(
    result: T,
    plan: QueryPlan,
    ctx: GatewayRequestContext,
  ): T {
    const headers = ctx.request.http?.headers;
    if (!this.options.exposeQueryPlans || !headers?.get('apollo-query-plan-experimental')) return result;
    const format = headers.get('apollo-query-plan-experimental-format') ?? 'prettified';
    result.extensions = {
      __queryPlanExperimental:
        format === 'prettified' ? prettyFormatQueryPlan(plan) || true : format === 'internal' ? plan : true,
    };
    return result;
  }
}

/** The gateway's own executeQueryPlan for one plan, as the oracle. */
export function gatewayPlanRunner(state: GatewayState, ctx: GatewayRequestContext) {
  return (plan: QueryPlan, services: ServiceMap, definition: OperationDefinitionNode) =>
    executeQueryPlan(
      plan,
      services,
      { ...ctx, metrics: { captureTraces: false } } as unknown as Parameters<typeof executeQueryPlan>[2],
      {
        schema: state.schema,
        operation: definition,
        fragments: Object.fromEntries(fragmentsOf(ctx.document).map((f) => [f.name.value, f])),
      },
      state.supergraphSchema,
      state.apiSchema,
    ) as Promise<PlanResult>;
}
