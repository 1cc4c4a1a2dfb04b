import {
  defaultRegistry,
  type Envelope,
  type MongoOutboxCollection,
  type MongoOutboxDocument,
  writeMongoOutbox,
} from '@fitness/events';
import mongoose, { type Connection, type InferSchemaType, type Model, Schema, Types } from 'mongoose';
import { userRegistered } from '../events.js';
import { type NewUser, type ProfilePatch, REGIONS, type UserCredentials, type UserRecord } from './models.js';
import {
  DuplicateError,
  type EdgeChange,
  isUserId,
  type UniqueField,
  type UsersStore,
} from './UsersStore.js';

/**
 * Filters on paths a schema does not declare are dropped, not sent: a typo or a
 * client-shaped key can never widen a query. Set per schema rather than with
 * `mongoose.set` so that importing this module changes no global state.
 */
const schemaOptions = { strictQuery: true } as const;

const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true, unique: true },
    /** Stored lowercased so the unique index makes handles unique regardless of case. */
    handle: { type: String, required: true, lowercase: true, trim: true, unique: true },
    displayName: { type: String, required: true },
    avatarUrl: { type: String, default: null },
    region: { type: String, required: true, enum: REGIONS },
    /** Never selected unless a query asks for it (sign-in only). */
    passwordHash: { type: String, required: true, select: false },
    followersCount: { type: Number, required: true, default: 0 },
    followingCount: { type: Number, required: true, default: 0 },
  },
  { ...schemaOptions, collection: 'users', timestamps: { createdAt: true, updatedAt: false } },
);

const followSchema = new Schema(
  {
    followerId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
    followeeId: { type: Schema.Types.ObjectId, required: true, ref: 'User', index: true },
  },
  { ...schemaOptions, collection: 'follows', timestamps: { createdAt: true, updatedAt: false } },
);
/** One edge per pair: the index, not a read before the insert, is what makes follow idempotent. */
followSchema.index({ followerId: 1, followeeId: 1 }, { unique: true });

type UserDoc = InferSchemaType<typeof userSchema> & { _id: Types.ObjectId; createdAt: Date };

function toUser(doc: UserDoc): UserRecord {
  return {
    id: doc._id.toHexString(),
    email: doc.email,
    handle: doc.handle,
    displayName: doc.displayName,
    avatarUrl: doc.avatarUrl ?? null,
    region: doc.region,
    createdAt: doc.createdAt,
    followersCount: doc.followersCount,
    followingCount: doc.followingCount,
  };
}

/** The outbox collection, written by createUser and read by MongoOutboxRelay. */
export const OUTBOX_COLLECTION = 'outbox';

/**
 * Without transactions an outbox document is inserted before its user and held
 * (attempts above any relay's maxAttempts, so no relay claims it) until the user
 * insert has answered; then it is released (attempts 0) or deleted.
 */
const HELD_ATTEMPTS = 1_000_000;
const HELD_OWNER = 'users:awaiting-insert';
/** A held document older than this belongs to a sign-up that died; the reconciler decides it. */
export const HELD_OUTBOX_GRACE_MS = 30_000;

/** The driver collection seen through the few methods the outbox uses. */
type OutboxDriverCollection = mongoose.mongo.Collection<MongoOutboxDocument>;

function outboxPort(collection: OutboxDriverCollection): MongoOutboxCollection {
  return {
    insertOne: (doc, options) =>
      collection.insertOne(
        doc,
        options?.session ? { session: options.session as mongoose.mongo.ClientSession } : {},
      ),
    findOneAndUpdate: (filter, update, options) => collection.findOneAndUpdate(filter, update, options),
    updateOne: (filter, update) => collection.updateOne(filter, update),
  };
}

/** An ObjectId for a client-supplied id, or null when it cannot be one (matches nobody). */
function toObjectId(id: string): Types.ObjectId | null {
  return isUserId(id) ? new Types.ObjectId(id) : null;
}

/** E11000 from a unique index: which field it guards, or undefined for any other error. */
function duplicateKeyField(error: unknown): UniqueField | 'edge' | undefined {
  if (!(error instanceof mongoose.mongo.MongoServerError) || error.code !== 11000) return undefined;
  const keys = Object.keys((error.keyPattern as Record<string, unknown> | undefined) ?? {});
  if (keys.includes('email') || /email_1/.test(error.message)) return 'email';
  if (keys.includes('handle') || /handle_1/.test(error.message)) return 'handle';
  return 'edge';
}

/**
 * The production adapter, on plain mongoose. Uniqueness and follow idempotency
 * come from unique indexes (E11000), so they hold across any number of replicas.
 * Build it with {@link MongoUsersStore.open}, which waits for those indexes.
 */
export class MongoUsersStore implements UsersStore {
  /** The outbox as MongoOutboxRelay reads it. */
  readonly outbox: MongoOutboxCollection;

  private constructor(
    private readonly connection: Connection,
    private readonly User: Model<UserDoc>,
    private readonly Follow: Model<InferSchemaType<typeof followSchema>>,
    private readonly outboxCollection: OutboxDriverCollection,
    /** Replica set or sharded cluster: the user and its event commit together. */
    readonly transactional: boolean,
  ) {
    this.outbox = outboxPort(outboxCollection);
  }

  /**
   * Registers the models on `connection` and builds their indexes before the
   * first write: without the unique indexes two concurrent sign-ups with one
   * email would both succeed. The connection should be opened with
   * `sanitizeFilter: true` (see stores.ts) so nested `$` keys in a filter value
   * are wrapped in `$eq`; this adapter marks its own operators `trusted`.
   */
  static async open(connection: Connection): Promise<MongoUsersStore> {
    const User = connection.model<UserDoc>('User', userSchema);
    const Follow = connection.model('Follow', followSchema);
    const db = connection.db;
    if (!db) throw new Error('MongoUsersStore.open needs an open connection.');
    const outbox = db.collection<MongoOutboxDocument>(OUTBOX_COLLECTION);
    // hello answers setName on a replica set member and msg 'isdbgrid' on mongos:
    // the deployments where multi-document transactions exist.
    const hello = await db.admin().command({ hello: 1 });
    const transactional = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
    await Promise.all([
      User.createIndexes(),
      Follow.createIndexes(),
      // The relay's claim order (MongoOutboxRelay) and the reconciler's scan of held documents.
      outbox.createIndex({ publishedAt: 1, createdAt: 1 }),
      outbox.createIndex({ leaseOwner: 1, createdAt: 1 }),
    ]);
    return new MongoUsersStore(connection, User, Follow, outbox, transactional);
  }

  /**
   * Inserts the user and its `users.registered` event. On a replica set both are
   * written in one transaction. On a standalone mongod (no transactions) the event
   * is written first, held, and released only once the user insert succeeded
   * (deleted when it failed, e.g. a taken email); a crash in between leaves a held
   * document that {@link reconcileHeldOutbox} settles from the users collection.
   */
  async createUser(input: NewUser): Promise<UserRecord> {
    // Id and time fixed up front: the event names the user before it is inserted.
    const _id = new Types.ObjectId();
    const createdAt = new Date();
    const doc = { ...input, _id, createdAt, followersCount: 0, followingCount: 0 };
    const event = userRegistered({
      id: _id.toHexString(),
      email: input.email,
      handle: input.handle.toLowerCase(),
      displayName: input.displayName,
      avatarUrl: null,
      region: input.region,
      createdAt,
      followersCount: 0,
      followingCount: 0,
    });
    try {
      const created = this.transactional
        ? await this.connection.transaction(async (session) => {
            const [user] = await this.User.create([doc], { session });
            await writeMongoOutbox(this.outbox, event, { session });
            return user!.toObject() as UserDoc;
          })
        : await this.createHeld(doc, event);
      return toUser(created);
    } catch (error) {
      const field = duplicateKeyField(error);
      if (field === 'email' || field === 'handle') throw new DuplicateError(field);
      throw error;
    }
  }

  /** The standalone fallback of createUser: held event, user, then release or delete. */
  private async createHeld(doc: Record<string, unknown>, event: Envelope): Promise<UserDoc> {
    const valid = defaultRegistry.validate(event);
    await this.outboxCollection.insertOne({
      _id: valid.id,
      type: valid.type,
      version: valid.version,
      envelope: event,
      createdAt: new Date(),
      publishedAt: null,
      attempts: HELD_ATTEMPTS,
      lastError: 'held until the user insert answers',
      leaseUntil: null,
      leaseOwner: HELD_OWNER,
    });
    let user: UserDoc;
    try {
      user = (await this.User.create(doc)).toObject() as UserDoc;
    } catch (error) {
      // No user, no event. If this delete fails too, the reconciler removes it.
      await this.outboxCollection.deleteOne({ _id: valid.id }).catch(() => undefined);
      throw error;
    }
    await this.releaseHeld(valid.id);
    return user;
  }

  private async releaseHeld(eventId: string): Promise<void> {
    await this.outboxCollection.updateOne(
      { _id: eventId, leaseOwner: HELD_OWNER },
      { $set: { attempts: 0, lastError: null, leaseOwner: null } },
    );
  }

  /**
   * Settles held outbox documents older than `graceMs`, left by sign-ups that died
   * between the event and the user insert (standalone mongod only): released when
   * the user exists, deleted when not. Run periodically; returns what it did.
   */
  async reconcileHeldOutbox(graceMs = HELD_OUTBOX_GRACE_MS): Promise<{ released: number; deleted: number }> {
    const held = await this.outboxCollection
      .find({ leaseOwner: HELD_OWNER, createdAt: { $lt: new Date(Date.now() - graceMs) } })
      .limit(500)
      .toArray();
    let released = 0;
    let deleted = 0;
    for (const doc of held) {
      const userId = (doc.envelope.payload as { userId?: unknown }).userId;
      const exists =
        typeof userId === 'string' && isUserId(userId)
          ? (await this.User.countDocuments({ _id: new Types.ObjectId(userId) })) > 0
          : false;
      if (exists) {
        await this.releaseHeld(doc._id);
        released++;
      } else {
        await this.outboxCollection.deleteOne({ _id: doc._id, leaseOwner: HELD_OWNER });
        deleted++;
      }
    }
    return { released, deleted };
  }

  async findByEmail(email: string): Promise<UserCredentials | null> {
    const doc = await this.User.findOne({ email: String(email).toLowerCase() })
      .select('+passwordHash')
      .lean<UserDoc>();
    return doc ? { user: toUser(doc), passwordHash: doc.passwordHash } : null;
  }

  async usersByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const objectIds = ids.map(toObjectId).filter((id): id is Types.ObjectId => id !== null);
    const docs = objectIds.length
      ? await this.User.find({ _id: mongoose.trusted({ $in: objectIds }) }).lean<UserDoc[]>()
      : [];
    const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toUser(doc)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const doc = await this.User.findOne({ handle: String(handle).toLowerCase() }).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async updateProfile(id: string, patch: ProfilePatch): Promise<UserRecord | null> {
    const _id = toObjectId(id);
    if (!_id) return null;
    const $set: ProfilePatch = {};
    if (patch.displayName !== undefined) $set.displayName = patch.displayName;
    if (patch.avatarUrl !== undefined) $set.avatarUrl = patch.avatarUrl;
    if (Object.keys($set).length === 0) return (await this.usersByIds([id]))[0] ?? null;
    const doc = await this.User.findOneAndUpdate(
      { _id },
      { $set },
      { returnDocument: 'after', runValidators: true },
    ).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async follow(followerId: string, followeeId: string): Promise<EdgeChange> {
    const pair = await this.existingPair(followerId, followeeId);
    if (!pair) return 'unknown-user';
    try {
      await this.Follow.create({ followerId: pair[0], followeeId: pair[1] });
    } catch (error) {
      // The edge exists already (maybe inserted by a concurrent call): nothing to count.
      if (duplicateKeyField(error) === 'edge') return 'unchanged';
      throw error;
    }
    await this.moveCounts(pair, 1);
    return 'changed';
  }

  async unfollow(followerId: string, followeeId: string): Promise<EdgeChange> {
    const pair = await this.existingPair(followerId, followeeId);
    if (!pair) return 'unknown-user';
    // Of concurrent unfollows only one deletes the edge; only that one counts.
    const { deletedCount } = await this.Follow.deleteOne({ followerId: pair[0], followeeId: pair[1] });
    if (deletedCount !== 1) return 'unchanged';
    await this.moveCounts(pair, -1);
    return 'changed';
  }

  async ping(): Promise<boolean> {
    try {
      await this.connection.db?.admin().ping();
      return this.connection.readyState === mongoose.ConnectionStates.connected;
    } catch {
      return false;
    }
  }

  /** Both ids cast, when both users exist. */
  private async existingPair(
    followerId: string,
    followeeId: string,
  ): Promise<[Types.ObjectId, Types.ObjectId] | null> {
    const follower = toObjectId(followerId);
    const followee = toObjectId(followeeId);
    if (!follower || !followee) return null;
    if (follower.equals(followee)) throw new Error('A user cannot follow themselves.');
    const found = await this.User.countDocuments({ _id: mongoose.trusted({ $in: [follower, followee] }) });
    return found === 2 ? [follower, followee] : null;
  }

  /**
   * Runs after the edge write, whose unique index decided that this call (and
   * no concurrent one) changed the edge. Without a transaction a crash between
   * the two writes leaves the counts one off; they can be recounted from
   * `follows`. TODO: wrap both in `connection.transaction` once every deployment
   * runs a replica set (a standalone mongod refuses transactions).
   */
  private async moveCounts([follower, followee]: [Types.ObjectId, Types.ObjectId], by: 1 | -1) {
    await this.User.bulkWrite([
      { updateOne: { filter: { _id: follower }, update: { $inc: { followingCount: by } } } },
      { updateOne: { filter: { _id: followee }, update: { $inc: { followersCount: by } } } },
    ]);
  }
}
