import type { Envelope } from '@fitness/events';
import type { NewUser, ProfilePatch, UserCredentials, UserRecord } from './models.js';

/** The user fields that must be unique; a {@link DuplicateError} names one of them. */
export type UniqueField = 'email' | 'handle';

/**
 * A write was refused by a unique constraint. Adapters raise it from the store's
 * own uniqueness guarantee (Mongo's unique index, the memory store's atomic
 * check-and-set), never from a read before the write, which would race.
 */
export class DuplicateError extends Error {
  constructor(readonly field: UniqueField) {
    super(`duplicate ${field}`);
    this.name = 'DuplicateError';
  }
}

/** What a follow or unfollow did; counts move only when `changed` is true. */
export type EdgeChange = 'changed' | 'unchanged' | 'unknown-user';

/**
 * The users store port. Two adapters pass the same contract suite
 * (test/usersStore.test.ts): {@link MongoUsersStore} in production and
 * {@link MemoryUsersStore} when no mongod can be had.
 *
 * Ids are 24-digit hex strings (Mongo ObjectIds); any other string is an id that
 * matches no user, never an error, because ids come straight from clients.
 */
export interface UsersStore {
  /** Inserts a user. @throws DuplicateError when the email or handle is taken. */
  createUser(input: NewUser): Promise<UserRecord>;
  /** The user with this (lowercased) email and its password hash, for sign-in. */
  findByEmail(email: string): Promise<UserCredentials | null>;
  /** Users by id in key order, null where there is none; one round trip. */
  usersByIds(ids: readonly string[]): Promise<(UserRecord | null)[]>;
  /** Case-insensitive. */
  findByHandle(handle: string): Promise<UserRecord | null>;
  /** Applies the patch and returns the updated user, or null when there is none. */
  updateProfile(id: string, patch: ProfilePatch): Promise<UserRecord | null>;
  /**
   * Adds the edge follower -> followee. Idempotent: both counts move by one only
   * when the edge did not exist, also under concurrent calls. 'unknown-user' when
   * either user does not exist. Following oneself is the caller's error to catch.
   */
  follow(followerId: string, followeeId: string): Promise<EdgeChange>;
  /** Removes the edge; counts move only when it existed. */
  unfollow(followerId: string, followeeId: string): Promise<EdgeChange>;
  /**
   * Erases the user (profile, email, handle, password hash) and emits `event`
   * (users.deleted) in the same atomic write, so the event exists exactly when the
   * deletion does. The email and handle are free at once. False when there is no
   * such user (already deleted, or never). Follows are removed by removeFollows.
   */
  deleteUser(id: string, event: Envelope): Promise<boolean>;
  /**
   * Removes every follow edge to and from `userId`, each other user's count moving
   * by one per edge removed, once: idempotent, also under concurrent calls.
   * @returns the edges removed
   */
  removeFollows(userId: string): Promise<number>;
  /**
   * Records a signOutEverywhere of a live user with its event (users.signed_out) in
   * one atomic write. False when there is no such user.
   */
  signOutEverywhere(id: string, at: Date, event: Envelope): Promise<boolean>;
  /**
   * Emits `event` (users.deleted) for an id that names no user, e.g. one other
   * services still hold data for (the accounts audit's repair). False, and nothing
   * emitted, when the id names a user or a deletion whose event is still pending.
   */
  emitForMissingUser(id: string, event: Envelope): Promise<boolean>;
  /** Ids that follow edges name but that are no user (edges a crashed deletion left). */
  followIdsWithoutUser(): Promise<string[]>;
  /** True when the store answers (GET /ready). */
  ping(): Promise<boolean>;
}

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** True for the 24-hex-digit ids both adapters use; anything else names no user. */
export function isUserId(id: string): boolean {
  return OBJECT_ID.test(id);
}

/** Of `ids`, those that name no user (a deletion's tombstone included), asking 500 at a time. */
export async function idsWithoutUser(
  store: Pick<UsersStore, 'usersByIds'>,
  ids: readonly string[],
): Promise<string[]> {
  const missing: string[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    const users = await store.usersByIds(batch);
    batch.forEach((id, n) => {
      if (!users[n]) missing.push(id);
    });
  }
  return missing;
}
