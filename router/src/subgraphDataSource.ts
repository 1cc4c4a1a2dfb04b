import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { CLIENT_ADDRESS_HEADER } from './clientAddress.js';
import type { RouterContext } from './context.js';

/**
 * Sends subgraph requests with the caller's verified Authorization, a request id and
 * the client address the router determined itself, and nothing else from the client:
 * client-sent internal headers (x-client-address included) never pass. Subgraphs
 * trust x-client-address for that reason, so they must only be reachable by the router.
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
    // set, not append: nothing but the router's own value may reach the subgraph.
    if (context.clientAddress) headers.set(CLIENT_ADDRESS_HEADER, context.clientAddress);
    else headers.delete(CLIENT_ADDRESS_HEADER);
  }
}
