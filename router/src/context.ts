import type { Viewer } from '@fitness/auth';

/** What the router knows about one request. */
export interface RouterContext {
  viewer: Viewer;
  /** The verified `Authorization` value, forwarded to subgraphs as is; undefined when anonymous. */
  authorization: string | undefined;
  requestId: string;
  /**
   * The caller's address (see clientAddressOf), sent to subgraphs as x-client-address;
   * undefined when unknown, and then the header is not sent at all.
   */
  clientAddress: string | undefined;
  /** On graphql-ws connections: when the connection's token expires. */
  tokenExpiresAt?: Date | undefined;
  /** On graphql-ws connections: when the connection's token was issued (a revocation may refuse it). */
  tokenIssuedAt?: Date | undefined;
}
