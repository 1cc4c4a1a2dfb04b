import type { Region } from '@fitness/server-kit';

export type { Region };

/**
 * A user as the resolvers see it. It never carries the password hash: only
 * {@link UserCredentials} does, and only sign-in asks for it.
 */
export interface UserRecord {
  id: string;
  /** Lowercased; the unique key that lookups by handle use. */
  handle: string;
  displayName: string;
  avatarUrl: string | null;
  email: string;
  region: Region;
  createdAt: Date;
  followersCount: number;
  followingCount: number;
}

/** What sign-in needs: the user and the stored scrypt hash. */
export interface UserCredentials {
  user: UserRecord;
  passwordHash: string;
}

/** A new account, already validated and normalized (email and handle lowercased). */
export interface NewUser {
  email: string;
  handle: string;
  displayName: string;
  region: Region;
  passwordHash: string;
}

/** A profile change: an absent field stays as it is; `avatarUrl: null` removes the avatar. */
export interface ProfilePatch {
  displayName?: string;
  avatarUrl?: string | null;
}

/** What signUp and signIn return. */
export interface AuthPayloadModel {
  token: string;
  expiresAt: Date;
  user: UserRecord;
}
