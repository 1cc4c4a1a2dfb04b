import type { IssuedToken, TokenSubject } from '@fitness/auth';
import { badUserInput, conflict, type Logger, notFound, unauthenticated } from '@fitness/server-kit';
import DataLoader from 'dataloader';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../passwords.js';
import type { SignInThrottle } from '../signInThrottle.js';
import type { SignUpThrottle } from '../signUpThrottle.js';
import {
  EMAIL_MAX,
  PASSWORD_MAX,
  type SignUpFields,
  validateHandle,
  validateProfilePatch,
  validateSignIn,
  validateSignUp,
} from '../validation.js';
import type { AuthPayloadModel, Region, UserRecord } from './models.js';
import { DuplicateError, type EdgeChange, type UsersStore } from './UsersStore.js';

/**
 * Signs a token for a user id (`sub`) with the user's `region` claim;
 * createTokenIssuer from @fitness/auth builds one.
 */
export type TokenIssuer = (subject: TokenSubject) => Promise<IssuedToken>;

/** What the account mutations need besides the store. */
export interface AccountSettings {
  issueToken: TokenIssuer;
  defaultRegion: Region;
  signInThrottle: SignInThrottle;
  signUpThrottle: SignUpThrottle;
}

const DUPLICATE_MESSAGES = {
  email: 'An account with this email already exists.',
  handle: 'This handle is taken.',
} as const;

/**
 * A failed sign-in is an ordinary GraphQL result (HTTP 200), not a refused request.
 * One message for an unknown email and a wrong password alike.
 */
const wrongEmailOrPassword = () => unauthenticated('Invalid email or password.');

/**
 * Per-request access to users: validation, password checks, token issuing and
 * the translation of store outcomes into contract error codes all happen here,
 * so resolvers stay one line. Its loader is never shared between requests, so
 * one user's cached view never leaks into another's.
 */
export class UsersDataSource {
  /** Every user read of a request goes through it: `_entities` costs one store call. */
  private readonly userById: DataLoader<string, UserRecord | null>;
  /** Users this request proved to own with a password (signUp/signIn), before any token exists. */
  private readonly signedInIds = new Set<string>();

  constructor(
    private readonly store: UsersStore,
    private readonly settings: AccountSettings,
    private readonly logger: Logger,
    /** The caller's address as the router saw it; null when unknown. */
    private readonly clientAddress: string | null = null,
  ) {
    this.userById = new DataLoader((ids) => store.usersByIds(ids));
  }

  getUser(id: string): Promise<UserRecord | null> {
    return this.userById.load(id);
  }

  /** Case-insensitive; a string that cannot be a handle finds nobody without a query. */
  async getUserByHandle(handle: string): Promise<UserRecord | null> {
    let key: string;
    try {
      key = validateHandle(handle);
    } catch {
      return null;
    }
    const user = await this.store.findByHandle(key);
    if (user) this.userById.prime(user.id, user);
    return user;
  }

  /** True when this request signed in or signed up as `userId`; see User.email. */
  signedInAs(userId: string): boolean {
    return this.signedInIds.has(userId);
  }

  /** Throttled per client address after validation, before the costly hash (see SignUpThrottle). */
  async signUp(input: SignUpFields): Promise<AuthPayloadModel> {
    const fields = validateSignUp(input, this.settings.defaultRegion);
    await this.settings.signUpThrottle.begin(this.clientAddress);
    const passwordHash = await hashPassword(fields.password);
    let user: UserRecord;
    try {
      user = await this.store.createUser({
        email: fields.email,
        handle: fields.handle,
        displayName: fields.displayName,
        region: fields.region,
        passwordHash,
      });
    } catch (error) {
      if (error instanceof DuplicateError) {
        throw conflict(DUPLICATE_MESSAGES[error.field], { field: error.field });
      }
      throw error;
    }
    this.logger.info({ userId: user.id }, 'user signed up');
    return this.authPayload(user);
  }

  /**
   * Throttled per account and per client address before anything but the character
   * check, which reads no account (see SignInThrottle). Then always runs one scrypt
   * verification, against a dummy hash when the email is unknown, so response time
   * does not tell which accounts exist.
   */
  async signIn(input: { email: string; password: string }): Promise<AuthPayloadModel> {
    const { email, password } = validateSignIn(input);
    const attempt = await this.settings.signInThrottle.begin(email, this.clientAddress);
    const credentials = email.length <= EMAIL_MAX ? await this.store.findByEmail(email) : null;
    // No stored password is longer; refusing longer ones bounds the hashing work.
    const plausible = [...password].length <= PASSWORD_MAX;
    const matches = await verifyPassword(
      plausible ? password : '',
      credentials?.passwordHash ?? (await dummyPasswordHash()),
    );
    if (!credentials || !plausible || !matches) {
      this.logger.info({ clientAddress: this.clientAddress }, 'sign-in failed');
      throw wrongEmailOrPassword();
    }
    await attempt.succeeded();
    return this.authPayload(credentials.user);
  }

  async updateProfile(userId: string, input: { displayName?: string | null; avatarUrl?: string | null }) {
    const patch = validateProfilePatch(input);
    const user = await this.store.updateProfile(userId, patch);
    if (!user) throw notFound('User not found.');
    this.userById.clear(userId).prime(userId, user);
    return user;
  }

  /** Idempotent; returns the followee with fresh counts. */
  follow(viewerId: string, userId: string): Promise<UserRecord> {
    return this.changeEdge(viewerId, userId, 'follow');
  }

  /** Idempotent; returns the user no longer followed, with fresh counts. */
  unfollow(viewerId: string, userId: string): Promise<UserRecord> {
    return this.changeEdge(viewerId, userId, 'unfollow');
  }

  private async changeEdge(viewerId: string, userId: string, op: 'follow' | 'unfollow') {
    if (viewerId.toLowerCase() === userId.toLowerCase()) {
      throw badUserInput(`You cannot ${op} yourself.`, { field: 'userId' });
    }
    const outcome: EdgeChange =
      op === 'follow'
        ? await this.store.follow(viewerId, userId)
        : await this.store.unfollow(viewerId, userId);
    if (outcome === 'unknown-user') throw notFound('User not found.');
    // Counts changed (or may have, through a concurrent request): read them again.
    this.userById.clear(viewerId).clear(userId);
    const user = await this.userById.load(userId);
    if (!user) throw notFound('User not found.');
    return user;
  }

  private async authPayload(user: UserRecord): Promise<AuthPayloadModel> {
    const { token, expiresAt } = await this.settings.issueToken({ userId: user.id, region: user.region });
    this.signedInIds.add(user.id);
    this.userById.prime(user.id, user);
    return { token, expiresAt, user };
  }
}
