import { STATUS_CODES } from 'node:http';
import type { FetchNode } from '@apollo/query-planner';
import { inSpan, tracingEnabled } from '@fitness/server-kit';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { RouterContext } from '../context.js';
import { INCLUDE_TRACE_HEADER } from '../studio/queryPlanTrace.js';
import {
  headerValue,
  SERVICE_UNAVAILABLE,
  type SubgraphAnswer,
  type SubgraphClient,
  type SubgraphResponse,
  unavailableResponse,
} from './subgraphClient.js';

/** The part of Apollo Server's cache policy that subgraph answers restrict. */
export interface CachePolicyRestrictor {
  restrict(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }): void;
}

// A fetch's query as JSON text, made once per fetch node (which lives with its cached plan).
const queryJson = new WeakMap<FetchNode, string>();

/** The request body RemoteGraphQLDataSource sends, byte for byte: `{"query","variables","operationName"}`. */
export function requestBody(fetch: FetchNode, variables: Record<string, unknown>): string {
  let head = queryJson.get(fetch);
  if (head === undefined) {
    head = `{"query":${JSON.stringify(fetch.operation)},"variables":`;
    queryJson.set(fetch, head);
  }
  const tail =
    fetch.operationName === undefined ? '}' : `,"operationName":${JSON.stringify(fetch.operationName)}}`;
  return `${head}${JSON.stringify(variables)}${tail}`;
}

/** An HTTP error answer, as RemoteGraphQLDataSource reports it (the health log reads its status). */
class SubgraphHttpError extends Error {
  readonly extensions: { response: { status: number } };

  constructor(status: number) {
    super(`${status}: ${STATUS_CODES[status] ?? ''}`);
    this.extensions = { response: { status } };
  }
}

function parseAnswer(answer: SubgraphAnswer): SubgraphResponse {
  if (answer.status < 200 || answer.status >= 300) throw new SubgraphHttpError(answer.status);
  const contentType = headerValue(answer, 'content-type');
  const body: unknown =
    contentType &&
    (contentType.startsWith('application/json') ||
      contentType.startsWith('application/graphql-response+json'))
      ? JSON.parse(answer.text)
      : answer.text;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error(`Expected JSON response body, but received: ${String(body).slice(0, 100)}`);
  }
  return body as SubgraphResponse;
}

/** Restricts the response's cache policy by the subgraph's Cache-Control, as the gateway does. */
function restrictCachePolicy(policy: CachePolicyRestrictor | undefined, answer: SubgraphAnswer): void {
  if (!policy) return;
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: 0 };
  const header = headerValue(answer, 'cache-control');
  if (header) {
    for (const part of header.trim().split(/\s*,\s*/)) {
      const [key, value] = part.split(/\s*=\s*/, 2);
      if (key === 'max-age' && value && /^[0-9]+$/.test(value.replace(/^"|"$/g, ''))) {
        hint.maxAge = Number(value.replace(/^"|"$/g, ''));
      } else if (key === 'private' && value === undefined) hint.scope = 'PRIVATE';
      else if (key === 'public' && value === undefined) hint.scope = 'PUBLIC';
    }
  }
  policy.restrict(hint);
}

type UnavailableAnswer = (variables: Record<string, unknown>) => SubgraphResponse;

/** How fetches that are not plan nodes (merged ones) answer when their subgraph is unavailable. */
const unavailableAnswers = new WeakMap<FetchNode, UnavailableAnswer>();

/** Responses made up by the router for a subgraph that did not answer (not sent by any subgraph). */
const madeUp = new WeakSet<SubgraphResponse>();

export function setUnavailableAnswer(fetch: FetchNode, answer: UnavailableAnswer): void {
  unavailableAnswers.set(fetch, answer);
}

/** Whether the router made this response up because the subgraph did not answer. */
export function isUnavailableAnswer(response: SubgraphResponse): boolean {
  return madeUp.has(response);
}

/**
 * Sends one fetch of a plan to its subgraph and answers the response body. A subgraph
 * that cannot be reached, times out, answers an HTTP error or no JSON object does not
 * fail the operation: the fetch answers `data: null` with a SERVICE_UNAVAILABLE error
 * per field it asked for (see unavailableResponse), and the outage is logged once.
 */
export function fetchFromSubgraph(
  client: SubgraphClient,
  fetch: FetchNode,
  variables: Record<string, unknown>,
  context: RouterContext,
  cachePolicy?: CachePolicyRestrictor,
  /** Ask for the subgraph's inline trace (extensions.ftv1): usage reporting captures this operation. */
  includeTrace = false,
): Promise<SubgraphResponse> {
  if (!tracingEnabled()) return send(client, fetch, variables, context, cachePolicy, includeTrace);
  // One CLIENT span per request sent; its traceparent goes with it (headersFor).
  return inSpan(
    `fetch ${fetch.serviceName}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'graphql.subgraph.name': fetch.serviceName,
        ...(fetch.operationName ? { 'graphql.operation.name': fetch.operationName } : {}),
      },
    },
    async (span) => {
      const response = await send(client, fetch, variables, context, cachePolicy, includeTrace);
      if (madeUp.has(response)) span.setStatus({ code: SpanStatusCode.ERROR, message: SERVICE_UNAVAILABLE });
      else if (response.errors?.length) span.setAttribute('graphql.errors', response.errors.length);
      return response;
    },
  );
}

async function send(
  client: SubgraphClient,
  fetch: FetchNode,
  variables: Record<string, unknown>,
  context: RouterContext,
  cachePolicy: CachePolicyRestrictor | undefined,
  includeTrace: boolean,
): Promise<SubgraphResponse> {
  try {
    const headers = client.headersFor(context);
    if (includeTrace) headers[INCLUDE_TRACE_HEADER] = 'ftv1';
    const answer = await client.post(requestBody(fetch, variables), headers);
    const response = parseAnswer(answer);
    restrictCachePolicy(cachePolicy, answer);
    client.health.succeeded(context.requestId);
    if (response.errors?.length) client.observer?.failed('graphql');
    return response;
  } catch (error) {
    client.health.failed(error, context.requestId);
    const answer = unavailableAnswers.get(fetch);
    const response = answer
      ? answer(variables)
      : unavailableResponse(fetch.operationDocumentNode, fetch.operation, variables);
    madeUp.add(response);
    return response;
  }
}
