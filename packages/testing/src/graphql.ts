import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type GraphQLFormattedError, print } from 'graphql';

/** The single-result shape of an operation, asserted instead of cast. */
export interface SingleResult<TData = Record<string, unknown>> {
  data?: TData | null;
  errors?: readonly GraphQLFormattedError[];
}

export function assertSingleResult<TData = Record<string, unknown>>(body: {
  kind: string;
  singleResult?: unknown;
}): SingleResult<TData> {
  if (body.kind !== 'single') throw new Error(`Expected a single result, got ${body.kind}`);
  return body.singleResult as SingleResult<TData>;
}

/** Codes of the errors in a result, in order. */
export function errorCodes(result: { errors?: readonly GraphQLFormattedError[] }): unknown[] {
  return (result.errors ?? []).map((e) => e.extensions?.code);
}

/** POSTs a GraphQL operation over real HTTP. */
export async function postGraphQL<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: SingleResult<TData> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as SingleResult<TData> };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Sends a typed document (from @fitness/client) and returns a typed result. */
export async function execute<TData, TVariables>(
  url: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  token?: string,
): Promise<{ status: number; body: SingleResult<TData> }> {
  return postGraphQL<TData>(
    url,
    print(document),
    (variables ?? {}) as Record<string, unknown>,
    token ? bearer(token) : {},
  );
}
