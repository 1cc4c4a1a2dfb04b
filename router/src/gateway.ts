import { ApolloGateway } from '@apollo/gateway';
import { GraphQLError } from 'graphql';

type GatewayExecutor = Awaited<ReturnType<ApolloGateway['load']>>['executor'];
type ExecutionResult = Awaited<ReturnType<GatewayExecutor>>;

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
  const errors = completion.map((e) => {
    const error = e as Partial<GraphQLError>;
    return new GraphQLError(error.message ?? 'Cannot complete a value of the response.', {
      ...(error.path ? { path: error.path } : {}),
      extensions: { ...error.extensions, code: 'INTERNAL_SERVER_ERROR' },
    });
  });
  const next = { ...result, errors: [...(result.errors ?? []), ...errors] };
  if (Object.keys(extensions).length) next.extensions = extensions;
  else delete next.extensions;
  return next;
}

/** The gateway, with an executor whose responses always carry their errors. */
export class RouterGateway extends ApolloGateway {
  override async load(options?: Parameters<ApolloGateway['load']>[0]) {
    const loaded = await super.load(options);
    const executor = loaded.executor;
    return {
      ...loaded,
      executor: async (requestContext: Parameters<GatewayExecutor>[0]): Promise<ExecutionResult> =>
        withCompletionErrors(await executor(requestContext)),
    };
  }
}
