import { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { RouterContext } from './context.js';

/**
 * Sends subgraph requests with the caller's verified Authorization and a request id,
 * and nothing else from the client: client-sent internal headers never pass.
 * Node's fetch (undici) keeps connections to subgraphs alive between requests.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  constructor(url: string, timeoutMs: number) {
    super({
      url,
      fetcher: ((input: string, init?: RequestInit) =>
        fetch(input, {
          ...init,
          signal: AbortSignal.timeout(timeoutMs),
        })) as unknown as RemoteGraphQLDataSource['fetcher'],
    });
  }

  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<RouterContext>['willSendRequest']>>[0]): void {
    const headers = request.http?.headers;
    if (!headers) return;
    if (context.authorization) headers.set('authorization', context.authorization);
    if (context.requestId) headers.set('x-request-id', context.requestId);
  }
}
