import type { IncomingHttpHeaders } from 'node:http';
import { invalidCredentials, type Region, unauthenticated } from '@fitness/server-kit';
import { InvalidTokenError, type TokenVerifier } from './tokens.js';

/** Who is calling. `userId` is null for an anonymous caller. */
export interface Viewer {
  userId: string | null;
  /** The `region` claim of the token; null when anonymous or when the token carries none. */
  region: Region | null;
}

export const ANONYMOUS: Viewer = Object.freeze({ userId: null, region: null });

/** Pulls the token out of `Bearer <token>`; undefined when there is no such header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw invalidCredentials('Authorization header must be "Bearer <token>".');
  return match[1];
}

/**
 * Resolves the viewer from an Authorization value. No header: anonymous. A header
 * with a bad, expired or foreign token: UNAUTHENTICATED (HTTP 401), never anonymous.
 */
export async function viewerFromAuthorization(
  authorization: string | undefined,
  verify: TokenVerifier,
  /** The request's id, for the lines the check writes (see TokenVerifier). */
  requestId?: string,
): Promise<Viewer> {
  const token = bearerToken(authorization);
  if (token === undefined) return ANONYMOUS;
  try {
    const { userId, region } = await verify(token, requestId);
    return { userId, region: region ?? null };
  } catch (error) {
    if (error instanceof InvalidTokenError) throw invalidCredentials(error.message);
    throw error;
  }
}

export function viewerFromHeaders(
  headers: IncomingHttpHeaders,
  verify: TokenVerifier,
  requestId?: string,
): Promise<Viewer> {
  const value = headers.authorization;
  return viewerFromAuthorization(Array.isArray(value) ? value[0] : value, verify, requestId);
}

/** The signed-in user's id, or UNAUTHENTICATED. */
export function requireUser(viewer: Viewer): string {
  if (!viewer.userId) throw unauthenticated();
  return viewer.userId;
}

/** True when the viewer is the owner of a record the SDL cannot mark (fields use `@selfOnly`). */
export function isSelf(viewer: Viewer, ownerId: string): boolean {
  return viewer.userId !== null && viewer.userId === ownerId;
}
