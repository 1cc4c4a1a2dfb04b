import { badUserInput, validateText } from '@fitness/server-kit';
import { isUuid } from '../validation.js';

/** The keyset position of a workout in a user's newest-first list. */
export interface WorkoutKey {
  startedAt: Date;
  id: string;
}

/**
 * Opaque to clients (base64url of JSON), so the keyset can change without
 * breaking the contract; a cursor is only valid for the list it came from.
 */
export function encodeCursor(key: WorkoutKey): string {
  return Buffer.from(JSON.stringify([key.startedAt.toISOString(), key.id])).toString('base64url');
}

/** Decodes a cursor from a client; anything that is not one of ours is BAD_USER_INPUT. */
export function decodeCursor(cursor: string): WorkoutKey {
  validateText(cursor, 'after', { kind: 'identifier' });
  const invalid = () => badUserInput('after is not a valid cursor.', { field: 'after' });
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid();
  const [at, id] = parsed as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !isUuid(id)) throw invalid();
  const startedAt = new Date(at);
  if (Number.isNaN(startedAt.getTime()) || startedAt.toISOString() !== at) throw invalid();
  return { startedAt, id: id.toLowerCase() };
}
