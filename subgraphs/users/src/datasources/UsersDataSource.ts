import { type IssuedToken, type RevocationList, revocationOf, type TokenSubject } from '@fitness/auth';
import { badUserInput, conflict, type Logger, notFound, unauthenticated } from '@fitness/server-kit';
import DataLoader from 'dataloader';
import { userDeleted, userSignedOut } from '../events.js';
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
import type { AuthPayloadModel, Region, UserCredentials, UserRecord } from './models.js';
import { DuplicateError, type EdgeChange, type UsersStore } from './UsersStore.js';

/**
 * Signs a token for a user id (`sub`) with the user's `region` claim;
 * createTokenIssuer from @fitness/auth builds one.
 */
export type TokenIssuer = (subject: TokenSubject) => Promise<IssuedToken>;

/** What deleteAccount and signOutEverywhere need to revoke tokens. */
export interface AccountRevocation {
  /** The list every service checks tokens against; written at once, before the event goes round. */
  list: RevocationList;
  /** The lifetime of the tokens users issues: how long a revocation must be remembered. */
  tokenTtlSeconds: number;
}

/** What the account mutations need besides the store. */
export interface AccountSettings {
  issueToken: TokenIssuer;
  defaultRegion: Region;
  signInThrottle: SignInThrottle;
  signUpThrottle: SignUpThrottle;
  /** Unset (tests of other mutations): deleteAccount and signOutEverywhere fail as internal errors. */
  revocation?: AccountRevocation;
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
    const credentials = await this.passwordCheck(email, password);
    if (!credentials) {
      this.logger.info({ clientAddress: this.clientAddress }, 'sign-in failed');
      throw wrongEmailOrPassword();
    }
    return this.authPayload(credentials.user);
  }

  /**
   * One throttled password check: the attempt is counted first (a blocked one
   * throws RATE_LIMITED), then exactly one scrypt verification runs, against a dummy
   * hash when the email is unknown; a success clears the account's counter.
   * Null when the password does not match.
   */
  private async passwordCheck(email: string, password: string): Promise<UserCredentials | null> {
    const attempt = await this.settings.signInThrottle.begin(email, this.clientAddress);
    const credentials = email.length <= EMAIL_MAX ? await this.store.findByEmail(email) : null;
    // No stored password is longer; refusing longer ones bounds the hashing work.
    const plausible = [...password].length <= PASSWORD_MAX;
    const matches = await verifyPassword(
      plausible ? password : '',
      credentials?.passwordHash ?? (await dummyPasswordHash()),
    );
    if (!credentials || !plausible || !matches) return null;
    await attempt.succeeded();
    return credentials;
  }

  /**
   * Re-checks the password, throttled as signIn is (the same per-account and
   * per-address counters), then erases the account with its users.deleted event
   * (the store's atomic write), revokes its tokens here at once, and removes its
   * follows. The other services erase what they hold when the event reaches them;
   * a failure after the deletion is logged, never undone: the users-erasure
   * consumer removes the follows again, and every service's revocation feed revokes.
   */
  async deleteAccount(userId: string, password: string): Promise<boolean> {
    const revocation = this.requireRevocation();
    const user = await this.getUser(userId);
    if (!user) throw unauthenticated('This account no longer exists.');
    await this.checkPassword(user.email, password);
    const at = new Date();
    const event = userDeleted(user.id, at, revocation.tokenTtlSeconds);
    if (!(await this.store.deleteUser(user.id, event)))
      throw unauthenticated('This account no longer exists.');
    this.userById.clear(user.id);
    this.logger.info({ userId: user.id, eventId: event.id }, 'account deleted');
    await revocation.list.revoke(revocationOf(event)).catch((err: unknown) => {
      this.logger.warn({ err, userId: user.id }, 'could not revoke at once; the revocation feed will');
    });
    await this.store.removeFollows(user.id).catch((err: unknown) => {
      this.logger.warn({ err, userId: user.id }, 'could not remove follows; the users-erasure consumer will');
    });
    return true;
  }

  /** Revokes every token issued to the user until now, here at once and everywhere through users.signed_out. */
  async signOutEverywhere(userId: string): Promise<boolean> {
    const revocation = this.requireRevocation();
    const at = new Date();
    const event = userSignedOut(userId, at, revocation.tokenTtlSeconds);
    if (!(await this.store.signOutEverywhere(userId, at, event)))
      throw unauthenticated('This account no longer exists.');
    // Unlike a deletion, nothing else would refuse the tokens while the event travels:
    // the revocation must hold before the mutation answers, so a failure here fails it.
    await revocation.list.revoke(revocationOf(event));
    this.logger.info({ userId }, 'signed out everywhere');
    return true;
  }

  private requireRevocation(): AccountRevocation {
    if (!this.settings.revocation) throw new Error('Token revocation is not configured.');
    return this.settings.revocation;
  }

  /** signIn's check for a signed-in caller: UNAUTHENTICATED for a wrong password (never logged). */
  private async checkPassword(email: string, password: string): Promise<void> {
    const { password: given } = validateSignIn({ email, password });
    if (!(await this.passwordCheck(email, given))) {
      this.logger.info({ clientAddress: this.clientAddress }, 'password re-check failed');
      throw unauthenticated('Invalid password.');
    }
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
