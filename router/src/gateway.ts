import { ApolloGateway, type GatewayConfig } from '@apollo/gateway';
import { type Logger, requestLogger } from '@fitness/server-kit';
import type { GraphQLError } from 'graphql';
import { completionError } from './executor/planExecutor.js';
import {
  type ExecutorMode,
  type GatewayRequestContext,
  type GatewayState,
  gatewayPlanRunner,
  RouterExecutor,
} from './executor/routerExecutor.js';

type GatewayExecutor = Awaited<ReturnType<ApolloGateway['load']>>['executor'];

/**
 * @apollo/gateway reports a value that cannot be completed (a non-null field that
 * came back null, e.g. an entity its subgraph cannot resolve) only under
 * `extensions.valueCompletion`, and only when no fetch failed. The response is then
 * `{ data: null }` with no `errors`, which the GraphQL spec forbids and every client
 * reads as an empty success. This moves them into `errors`, with their paths, as the
 * spec's field errors.
 */
export function withCompletionErrors<
  T extends { data?: unknown; errors?: readonly unknown[]; extensions?: Record<string, unknown> },
>(result: T): T {
  const completion = result.extensions?.valueCompletion as readonly unknown[] | undefined;
  if (!completion?.length) return result;
  const { valueCompletion: _moved, ...extensions } = result.extensions!;
  const errors = completion.map((e) => completionError(e as Partial<GraphQLError>));
  const next = { ...result, errors: [...(result.errors ?? []), ...errors] };
  if (Object.keys(extensions).length) next.extensions = extensions;
  else delete next.extensions;
  return next;
}

/**
 * The gateway: @apollo/gateway loads and composes the supergraph and plans operations;
 * the router's executor runs the plans (ROUTER_EXECUTOR, see executor/), with the
 * gateway's own executor as the fallback and the oracle. Either way, responses always
 * carry their errors (withCompletionErrors).
 */
export class RouterGateway extends ApolloGateway {
  readonly planExecutor: RouterExecutor;
  private readonly requestLines: Logger;

  constructor(
    config: GatewayConfig & {
      executorMode?: ExecutorMode;
      logger: Logger;
      exposeQueryPlans?: boolean;
      mergeFetches?: boolean;
      inboundDedup?: boolean;
    },
  ) {
    const {
      executorMode = 'router',
      exposeQueryPlans = false,
      mergeFetches = true,
      inboundDedup = false,
      ...gatewayConfig
    } = config;
    super(gatewayConfig);
    this.requestLines = config.logger;
    this.planExecutor = new RouterExecutor(executorMode, {
      logger: config.logger,
      exposeQueryPlans,
      mergeFetches,
      inboundDedup,
    });
  }

  override async load(options?: Parameters<ApolloGateway['load']>[0]) {
    const loaded = await super.load(options);
    const own = loaded.executor;
    // What the gateway's executeQueryPlan writes goes to its request context's logger
    // (Apollo Server's): there it names the request, without a request scope. Only on
    // the paths that run it, so the router's executor allocates nothing for it.
    const withRequestLines = (requestContext: Parameters<GatewayExecutor>[0]) => {
      const { requestId } = (requestContext.context ?? {}) as { requestId?: string };
      (requestContext as { logger: unknown }).logger = requestLogger(this.requestLines, requestId);
      return requestContext;
    };
    const gatewayExecutor = async (requestContext: GatewayRequestContext) =>
      withCompletionErrors(
        await own(withRequestLines(requestContext as unknown as Parameters<GatewayExecutor>[0])),
      );
    const state = this as unknown as GatewayState;
    return {
      ...loaded,
      executor: (async (requestContext: Parameters<GatewayExecutor>[0]) => {
        const ctx = requestContext as unknown as GatewayRequestContext;
        const oracle = gatewayPlanRunner(state, ctx);
        return this.planExecutor.execute(
          state,
          ctx,
          gatewayExecutor as never,
          async (plan, services, definition) => {
            withRequestLines(requestContext);
            return withCompletionErrors(await oracle(plan, services, definition));
          },
        );
      }) as unknown as GatewayExecutor,
    } as typeof loaded;
  }
}
