import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Envelope } from '@fitness/events';
import { type MemoryOutbox, userRegistered } from '../events.js';
import type { NewUser, ProfilePatch, UserCredentials, UserRecord } from './models.js';
import { DuplicateError, type EdgeChange, isUserId, type UsersStore } from './UsersStore.js';

interface StoredUser {
  user: UserRecord;
  passwordHash: string;
}

/** An ObjectId-shaped id (4 bytes of seconds, 8 random), so both adapters accept the same ids. */
function newId(): string {
  const seconds = Buffer.alloc(4);
  seconds.writeUInt32BE(Math.floor(Date.now() / 1000));
  return Buffer.concat([seconds, randomBytes(8)]).toString('hex');
}

/** What a snapshot file holds: enough to rebuild every index. */
interface Snapshot {
  version: 1;
  users: { user: Omit<UserRecord, 'createdAt'> & { createdAt: string }; passwordHash: string }[];
  edges: string[];
}

/**
 * The in-process fallback when no mongod can be had: one instance. With a snapshot
 * path it keeps its accounts across restarts of `pnpm start` (written atomically,
 * shortly after each change, and on close); without one, nothing survives. Every method does all its reads and writes before its first
 * await, so each is atomic on Node's single thread; that is what makes its
 * uniqueness and follow counts exact under concurrent requests, as Mongo's
 * unique indexes do for {@link MongoUsersStore}.
 */
export class MemoryUsersStore implements UsersStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly idByEmail = new Map<string, string>();
  private readonly idByHandle = new Map<string, string>();
  /** `${followerId}>${followeeId}` */
  private readonly edges = new Set<string>();

  private saveTimer: NodeJS.Timeout | undefined;

  /**
   * @param outbox receives `users.registered` for every account created (none when absent)
   * @param snapshotPath a JSON file to load from and keep up to date (development only)
   */
  constructor(
    private readonly outbox?: MemoryOutbox,
    private readonly snapshotPath?: string,
  ) {
    if (snapshotPath && existsSync(snapshotPath))
      this.restore(JSON.parse(readFileSync(snapshotPath, 'utf8')));
  }

  private restore(snapshot: Snapshot): void {
    if (snapshot.version !== 1)
      throw new Error(`Unknown users snapshot version ${String(snapshot.version)}.`);
    for (const { user, passwordHash } of snapshot.users) {
      const record: UserRecord = { ...user, createdAt: new Date(user.createdAt) };
      this.users.set(record.id, { user: record, passwordHash });
      this.idByEmail.set(record.email, record.id);
      this.idByHandle.set(record.handle, record.id);
    }
    for (const edge of snapshot.edges) this.edges.add(edge);
  }

  /** Schedules a snapshot write; changes within 100 ms share one. */
  private changed(): void {
    if (!this.snapshotPath || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.save(), 100);
    this.saveTimer.unref();
  }

  /** Writes the snapshot now (temp file, then rename: never a half-written file). */
  save(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.snapshotPath) return;
    const snapshot: Snapshot = {
      version: 1,
      users: [...this.users.values()].map(({ user, passwordHash }) => ({
        user: { ...user, createdAt: user.createdAt.toISOString() },
        passwordHash,
      })),
      edges: [...this.edges],
    };
    mkdirSync(dirname(this.snapshotPath), { recursive: true });
    const tmp = `${this.snapshotPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(snapshot), { mode: 0o600 });
    renameSync(tmp, this.snapshotPath);
  }

  async createUser(input: NewUser): Promise<UserRecord> {
    const email = input.email.toLowerCase();
    const handle = input.handle.toLowerCase();
    if (this.idByEmail.has(email)) throw new DuplicateError('email');
    if (this.idByHandle.has(handle)) throw new DuplicateError('handle');
    const user: UserRecord = {
      id: newId(),
      email,
      handle,
      displayName: input.displayName,
      avatarUrl: null,
      region: input.region,
      createdAt: new Date(),
      followersCount: 0,
      followingCount: 0,
    };
    // Built (and validated) before anything is stored: a bad event must not leave a user behind.
    const registered = this.outbox ? userRegistered(user) : undefined;
    this.users.set(user.id, { user, passwordHash: input.passwordHash });
    this.idByEmail.set(email, user.id);
    this.idByHandle.set(handle, user.id);
    if (registered) this.outbox?.append(registered);
    this.changed();
    return { ...user };
  }

  async findByEmail(email: string): Promise<UserCredentials | null> {
    const stored = this.byId(this.idByEmail.get(email.toLowerCase()));
    return stored ? { user: { ...stored.user }, passwordHash: stored.passwordHash } : null;
  }

  async usersByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    return ids.map((id) => {
      const stored = this.byId(id);
      return stored ? { ...stored.user } : null;
    });
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const stored = this.byId(this.idByHandle.get(handle.toLowerCase()));
    return stored ? { ...stored.user } : null;
  }

  async updateProfile(id: string, patch: ProfilePatch): Promise<UserRecord | null> {
    const stored = this.byId(id);
    if (!stored) return null;
    if (patch.displayName !== undefined) stored.user.displayName = patch.displayName;
    if (patch.avatarUrl !== undefined) stored.user.avatarUrl = patch.avatarUrl;
    this.changed();
    return { ...stored.user };
  }

  async follow(followerId: string, followeeId: string): Promise<EdgeChange> {
    const follower = this.byId(followerId);
    const followee = this.byId(followeeId);
    if (!follower || !followee) return 'unknown-user';
    if (follower === followee) throw new Error('A user cannot follow themselves.');
    const edge = `${follower.user.id}>${followee.user.id}`;
    if (this.edges.has(edge)) return 'unchanged';
    this.edges.add(edge);
    follower.user.followingCount += 1;
    followee.user.followersCount += 1;
    this.changed();
    return 'changed';
  }

  async unfollow(followerId: string, followeeId: string): Promise<EdgeChange> {
    const follower = this.byId(followerId);
    const followee = this.byId(followeeId);
    if (!follower || !followee) return 'unknown-user';
    if (!this.edges.delete(`${follower.user.id}>${followee.user.id}`)) return 'unchanged';
    follower.user.followingCount -= 1;
    followee.user.followersCount -= 1;
    this.changed();
    return 'changed';
  }

  async deleteUser(id: string, event: Envelope): Promise<boolean> {
    const stored = this.byId(id);
    if (!stored) return false;
    const { user } = stored;
    this.users.delete(user.id);
    this.idByEmail.delete(user.email);
    this.idByHandle.delete(user.handle);
    this.outbox?.append(event);
    this.changed();
    return true;
  }

  async removeFollows(userId: string): Promise<number> {
    const id = userId.toLowerCase();
    let removed = 0;
    for (const edge of this.edges) {
      const [follower, followee] = edge.split('>') as [string, string];
      if (follower !== id && followee !== id) continue;
      this.edges.delete(edge);
      removed += 1;
      if (follower === id) {
        const other = this.users.get(followee);
        if (other) other.user.followersCount -= 1;
      } else {
        const other = this.users.get(follower);
        if (other) other.user.followingCount -= 1;
      }
    }
    if (removed > 0) this.changed();
    return removed;
  }

  async signOutEverywhere(id: string, _at: Date, event: Envelope): Promise<boolean> {
    if (!this.byId(id)) return false;
    this.outbox?.append(event);
    return true;
  }

  async emitForMissingUser(id: string, event: Envelope): Promise<boolean> {
    if (this.byId(id)) return false;
    this.outbox?.append(event);
    return true;
  }

  async followIdsWithoutUser(): Promise<string[]> {
    const ids = new Set<string>();
    for (const edge of this.edges) for (const id of edge.split('>')) if (!this.users.has(id)) ids.add(id);
    return [...ids];
  }

  async ping(): Promise<boolean> {
    return true;
  }

  private byId(id: string | undefined): StoredUser | undefined {
    return id !== undefined && isUserId(id) ? this.users.get(id.toLowerCase()) : undefined;
  }
}
