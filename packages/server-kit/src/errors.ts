import { GraphQLError } from 'graphql';

/** The error codes of the client contract (errors[].extensions.code). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYMENT_DECLINED: 'PAYMENT_DECLINED',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes that carry a message written for clients; every other error is masked. */
const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  // Apollo Server's own request errors (parse, validation, bad request, persisted queries).
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'PERSISTED_QUERY_HASH_MISMATCH',
  'PERSISTED_QUERY_NOT_IN_LIST',
  // The router's: a field whose subgraph did not answer (partial data, see README),
  // and an operation refused by demand control.
  'SERVICE_UNAVAILABLE',
  'COST_ESTIMATED_TOO_EXPENSIVE',
]);

export function isPublicCode(code: unknown): boolean {
  return typeof code === 'string' && PUBLIC_CODES.has(code);
}

function make(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const badUserInput = (message: string, extensions?: Record<string, unknown>) =>
  make(ErrorCode.BAD_USER_INPUT, message, extensions);
export const notFound = (message: string, extensions?: Record<string, unknown>) =>
  make(ErrorCode.NOT_FOUND, message, extensions);
export const conflict = (message: string, extensions?: Record<string, unknown>) =>
  make(ErrorCode.CONFLICT, message, extensions);
export const forbidden = (message = 'You may only read or change your own data.') =>
  make(ErrorCode.FORBIDDEN, message);
/** A field or mutation that needs a signed-in user; the response stays HTTP 200. */
export const unauthenticated = (message = 'You must be signed in.') =>
  make(ErrorCode.UNAUTHENTICATED, message);
/**
 * A credential that was sent but cannot be trusted (bad, expired, foreign token): the
 * whole request is refused with HTTP 401 before any field runs.
 */
export const invalidCredentials = (message: string) =>
  make(ErrorCode.UNAUTHENTICATED, message, { http: { status: 401 } });
export const rateLimited = (message: string, retryAfterSec: number) =>
  make(ErrorCode.RATE_LIMITED, message, { retryAfterSec });
export const paymentDeclined = (message: string) => make(ErrorCode.PAYMENT_DECLINED, message);
