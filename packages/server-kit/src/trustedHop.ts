import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import { type ReportProblem, SECRET_MIN_LENGTH, weakSecretReason, z } from './config.js';
import { ErrorCode } from './errors.js';

/**
 * Where the router proves itself to a subgraph: this HTTP header, and the key of
 * the same name in graphql-ws connectionParams.
 */
export const ROUTER_SECRET_HEADER = 'x-router-secret';

/**
 * The router secret when ROUTER_SUBGRAPH_SECRET is unset outside production, so that
 * each service also runs alone. Refused in production, where the variable is required.
 */
export const DEVELOPMENT_ROUTER_SECRET = 'development-only-router-secret-do-not-use-in-production';

/** ROUTER_SUBGRAPH_SECRET, read by the router and every subgraph; merge into the config schema. */
export const routerSecretEnv = {
  ROUTER_SUBGRAPH_SECRET: z
    .string()
    .min(SECRET_MIN_LENGTH, `must be at least ${SECRET_MIN_LENGTH} characters`)
    .optional(),
};

/**
 * The secret the router sends and subgraphs expect: required and strong in
 * production (see weakSecretReason), the development default otherwise.
 */
export function routerSecretFrom(
  c: { ROUTER_SUBGRAPH_SECRET?: string | undefined },
  production: boolean,
  report: ReportProblem,
): string {
  const secret = c.ROUTER_SUBGRAPH_SECRET;
  if (!secret) {
    if (production) report('ROUTER_SUBGRAPH_SECRET', 'must be set when NODE_ENV=production');
    return DEVELOPMENT_ROUTER_SECRET;
  }
  const weak = production ? weakSecretReason(secret, [DEVELOPMENT_ROUTER_SECRET]) : undefined;
  if (weak) report('ROUTER_SUBGRAPH_SECRET', weak);
  return secret;
}

/** True when `presented` is the router secret. */
export type RouterSecretCheck = (presented: unknown) => boolean;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Compares in constant time: both sides are hashed first, so the comparison is of
 * equal-length digests and neither the secret's length nor a matching prefix shows
 * in the timing.
 */
export function routerSecretCheck(secret: string): RouterSecretCheck {
  const expected = digest(secret);
  return (presented) => typeof presented === 'string' && timingSafeEqual(digest(presented), expected);
}

/**
 * Refuses a request that does not come from the router: 401 without the secret
 * header, 403 with a wrong one. Nothing else of the request is looked at before
 * this, so a forged x-client-address or x-request-id never counts for anything.
 */
export function assertFromRouter(headers: IncomingHttpHeaders, check: RouterSecretCheck): void {
  const presented = headers[ROUTER_SECRET_HEADER];
  if (presented !== undefined && check(presented)) return;
  const [code, status] =
    presented === undefined ? [ErrorCode.UNAUTHENTICATED, 401] : [ErrorCode.FORBIDDEN, 403];
  throw new GraphQLError('This service answers the router only.', { extensions: { code, http: { status } } });
}
