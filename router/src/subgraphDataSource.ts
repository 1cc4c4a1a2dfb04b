import { STATUS_CODES } from 'node:http';
import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { DocumentNode } from 'graphql';
import { CLIENT_ADDRESS_HEADER } from './clientAddress.js';
import type { RouterContext } from './context.js';
import {
  type FetchCounters,
  headerValue,
  SubgraphClient,
  type SubgraphClientOptions,
  type SubgraphHealth,
  unavailableResponse,
} from './executor/subgraphClient.js';

export { SERVICE_UNAVAILABLE, SubgraphHealth } from './executor/subgraphClient.js';

type Response = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/**
 * The slice of fetch that RemoteGraphQLDataSource uses (status, headers.get, text,
 * json), answered by the subgraph client: a string body in, the whole body read as
 * text once, no streams handed on.
 */
function clientFetcher(client: SubgraphClient): RemoteGraphQLDataSource['fetcher'] {
  const fetcher = async (input: string, init: { headers?: Record<string, string>; body?: string }) => {
    const target = new URL(input);
    const answer = await client.post(
      init.body ?? '',
      init.headers ?? {},
      `${target.pathname}${target.search}`,
    );
    const header = (name: string) => headerValue(answer, name.toLowerCase());
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

/**
 * @apollo/gateway's data source for one subgraph, sending through the router's
 * SubgraphClient (see there: pool, headers, shared requests). Used by the gateway's
 * own executor (ROUTER_EXECUTOR=gateway, and as the oracle of the router's executor);
 * the router's executor talks to `client` directly.
 *
 * A subgraph that cannot be reached, times out or answers with an HTTP error does not
 * fail the whole operation: its fetch answers `data: null` with one
 * SERVICE_UNAVAILABLE error per field it was asked for, each carrying the path the
 * gateway maps onto the client's response, so the rest of the data still arrives.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  readonly client: SubgraphClient;

  constructor(url: string, timeoutMs: number, options: SubgraphClientOptions = {}) {
    const client = new SubgraphClient(url, timeoutMs, options);
    super({ url, fetcher: clientFetcher(client) });
    this.client = client;
  }

  get health(): SubgraphHealth {
    return this.client.health;
  }

  /** Requests sent to the subgraph, and fetches that shared one already in flight. */
  get counters(): FetchCounters {
    return this.client.counters;
  }

  /** Closes the connections to the subgraph (router shutdown). */
  async close(): Promise<void> {
    await this.client.close();
  }

  override async process(options: GraphQLDataSourceProcessOptions<RouterContext>): Promise<Response> {
    let response: Response;
    try {
      response = await super.process(options);
    } catch (error) {
      this.client.health.failed(error, (options.context as RouterContext | undefined)?.requestId);
      const document = 'document' in options ? (options.document as DocumentNode | undefined) : undefined;
      return unavailableResponse(document, options.request.query, options.request.variables) as Response;
    }
    this.client.health.succeeded((options.context as RouterContext | undefined)?.requestId);
    if (response.errors?.length) this.client.observer?.failed('graphql');
    return response;
  }

  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<RouterContext>['willSendRequest']>>[0]): void {
    const headers = request.http?.headers;
    if (!headers) return;
    for (const [name, value] of Object.entries(this.client.headersFor(context as RouterContext)))
      headers.set(name, value);
    // Nothing but the router's own value may reach the subgraph.
    if (!context.clientAddress) headers.delete(CLIENT_ADDRESS_HEADER);
  }
}
