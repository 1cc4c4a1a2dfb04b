import { type Envelope, MONGO_OUTBOX_INDEX, mongoOutboxFields, withMongoOutbox } from '@fitness/events';
import { REGIONS } from '@fitness/server-kit';
import mongoose, { type Connection, type InferSchemaType, type Model, Schema, Types } from 'mongoose';
import { userRegistered } from '../events.js';
import type { NewUser, ProfilePatch, UserCredentials, UserRecord } from './models.js';
import {
  DuplicateError,
  type EdgeChange,
  idsWithoutUser,
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

/**
 * Email and handle are stored lowercased and looked up lowercased, so plain unique
 * indexes make them unique regardless of case. A case-insensitive collation (strength 2)
 * would do it on a real MongoDB, but the test server has no collations: the code relies
 * only on byte-wise comparison, which both have.
 */
const userSchema = new Schema(
  {
    email: { type: String, required: true, lowercase: true, trim: true, unique: true },
    handle: { type: String, required: true, lowercase: true, trim: true, unique: true },
    displayName: { type: String, required: true },
    avatarUrl: { type: String, default: null },
    region: { type: String, required: true, enum: REGIONS },
    /** Never selected unless a query asks for it (sign-in only). */
    passwordHash: { type: String, required: true, select: false },
    followersCount: { type: Number, required: true, default: 0 },
    followingCount: { type: Number, required: true, default: 0 },
    /**
     * The events of this user's writes until the relay has published them
     * (see @fitness/events' Mongo outbox): written in the same document write as the
     * change, so no transaction is needed. Never read by the store.
     */
    outbox: { type: Schema.Types.Mixed, select: false },
    outboxParked: { type: [Schema.Types.Mixed], select: false, default: undefined },
    /**
     * Set on a deleted user's tombstone: the document then holds nothing personal,
     * only its pending users.deleted event, and the relay deletes it once that is
     * published (TOMBSTONE). Every read filters tombstones out.
     */
    deletedAt: { type: Date, select: false },
    /** The last signOutEverywhere (its users.signed_out event is written with it). */
    signedOutAt: { type: Date, select: false },
  },
  { ...schemaOptions, collection: 'users', timestamps: { createdAt: true, updatedAt: false } },
);
userSchema.index(MONGO_OUTBOX_INDEX.key, MONGO_OUTBOX_INDEX.options);

const followSchema = new Schema(
  {
    followerId: { type: Schema.Types.ObjectId, required: true, ref: 'User' },
    followeeId: { type: Schema.Types.ObjectId, required: true, ref: 'User', index: true },
  },
  { ...schemaOptions, collection: 'follows', timestamps: { createdAt: true, updatedAt: false } },
);
/** One edge per pair: the index, not a read before the insert, is what makes follow idempotent. */
followSchema.index({ followerId: 1, followeeId: 1 }, { unique: true });

/** The documents the relay deletes once their events are published: deleted users' tombstones. */
export const TOMBSTONE = { deletedAt: { $exists: true } } as const;

/** A filter on live users (no tombstone); `null` also matches a missing field, and needs no operator. */
const LIVE = { deletedAt: null };
/** The same for the driver's collection, which takes operators as they are. */
const TOMBSTONE_ABSENT = { deletedAt: { $exists: false } } as const;

/**
 * A tombstone's email and handle: unique per id (the unique indexes hold for any
 * number of tombstones), and neither a valid email nor a valid handle, so no
 * sign-in or lookup can ever reach one.
 */
const placeholder = (id: string) => `deleted:${id}`;

/** The profile fields a deletion removes; email and handle are replaced by placeholders. */
const PERSONAL_FIELDS = {
  displayName: '',
  avatarUrl: '',
  region: '',
  passwordHash: '',
  followersCount: '',
  followingCount: '',
  createdAt: '',
  signedOutAt: '',
} as const;

type UserDoc = Omit<
  InferSchemaType<typeof userSchema>,
  'outbox' | 'outboxParked' | 'deletedAt' | 'signedOutAt'
> & {
  _id: Types.ObjectId;
  createdAt: Date;
};

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

/** An ObjectId for a client-supplied id, or null when it cannot be one (matches nobody). */
function toObjectId(id: string): Types.ObjectId | null {
  return isUserId(id) ? new Types.ObjectId(id) : null;
}

/**
 * E11000 from a unique index: which field it guards, or undefined for any other error.
 * Read from `keyPattern` (every server the driver supports sends it), never from the
 * message: mongod's text differs between versions and from the test server's.
 */
function duplicateKeyField(error: unknown): UniqueField | 'edge' | 'id' | undefined {
  if (!(error instanceof mongoose.mongo.MongoServerError) || error.code !== 11000) return undefined;
  const keys = Object.keys((error.keyPattern as Record<string, unknown> | undefined) ?? {});
  if (keys.length === 1 && keys[0] === 'email') return 'email';
  if (keys.length === 1 && keys[0] === 'handle') return 'handle';
  if (keys.includes('followerId') && keys.includes('followeeId')) return 'edge';
  if (keys.length === 1 && keys[0] === '_id') return 'id';
  return undefined;
}

/**
 * The production adapter, on plain mongoose. Uniqueness and follow idempotency
 * come from unique indexes (E11000), so they hold across any number of replicas.
 * Build it with {@link MongoUsersStore.open}, which waits for those indexes.
 */
export class MongoUsersStore implements UsersStore {
  private constructor(
    private readonly connection: Connection,
    private readonly User: Model<UserDoc>,
    private readonly Follow: Model<InferSchemaType<typeof followSchema>>,
    /** The users collection as MongoOutboxRelay reads it: the documents carry their events. */
    readonly outbox: mongoose.mongo.Collection,
  ) {}

  /**
   * Registers the models on `connection` and builds their indexes before the
   * first write: without the unique indexes two concurrent sign-ups with one
   * email would both succeed. A real mongod may still be building an index when
   * other commands run, the test server builds it at once; both enforce it once
   * createIndexes has answered, which is all this relies on. The connection should
   * be opened with `sanitizeFilter: true` (see stores.ts) so nested `$` keys in a
   * filter value are wrapped in `$eq`; this adapter marks its own operators `trusted`.
   */
  static async open(connection: Connection): Promise<MongoUsersStore> {
    const User = connection.model<UserDoc>('User', userSchema);
    const Follow = connection.model('Follow', followSchema);
    const db = connection.db;
    if (!db) throw new Error('MongoUsersStore.open needs an open connection.');
    await Promise.all([User.createIndexes(), Follow.createIndexes()]);
    return new MongoUsersStore(connection, User, Follow, db.collection(User.collection.collectionName));
  }

  /**
   * Inserts the user with its `users.registered` event inside the same document:
   * one single-document write, atomic on a standalone mongod as on a replica set,
   * so the event exists exactly when the user does (none for a refused duplicate).
   */
  async createUser(input: NewUser): Promise<UserRecord> {
    // Id and time fixed up front: the event names the user it is inserted with.
    const _id = new Types.ObjectId();
    const createdAt = new Date();
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
      const created = await this.User.create({
        ...input,
        _id,
        createdAt,
        followersCount: 0,
        followingCount: 0,
        ...mongoOutboxFields([event]),
      });
      return toUser(created.toObject() as UserDoc);
    } catch (error) {
      const field = duplicateKeyField(error);
      if (field === 'email' || field === 'handle') throw new DuplicateError(field);
      throw error;
    }
  }

  async findByEmail(email: string): Promise<UserCredentials | null> {
    const doc = await this.User.findOne({ email: String(email).toLowerCase(), ...LIVE })
      .select('+passwordHash')
      .lean<UserDoc>();
    return doc ? { user: toUser(doc), passwordHash: doc.passwordHash } : null;
  }

  async usersByIds(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const objectIds = ids.map(toObjectId).filter((id): id is Types.ObjectId => id !== null);
    const docs = objectIds.length
      ? await this.User.find({ _id: mongoose.trusted({ $in: objectIds }), ...LIVE }).lean<UserDoc[]>()
      : [];
    const byId = new Map(docs.map((doc) => [doc._id.toHexString(), toUser(doc)]));
    return ids.map((id) => byId.get(String(id).toLowerCase()) ?? null);
  }

  async findByHandle(handle: string): Promise<UserRecord | null> {
    const doc = await this.User.findOne({ handle: String(handle).toLowerCase(), ...LIVE }).lean<UserDoc>();
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
      { _id, ...LIVE },
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

  /**
   * One update of the driver's collection turns the user into its tombstone and
   * appends users.deleted to the events it carries (users.registered may still be
   * among them): no transaction needed, and nothing else can see a half-deleted user.
   */
  async deleteUser(id: string, event: Envelope): Promise<boolean> {
    const _id = toObjectId(id);
    if (!_id) return false;
    const key = placeholder(_id.toHexString());
    const { modifiedCount } = await this.outbox.updateOne(
      { _id, ...TOMBSTONE_ABSENT },
      withMongoOutbox<mongoose.mongo.Document>(
        { $set: { deletedAt: new Date(), email: key, handle: key }, $unset: PERSONAL_FIELDS },
        [event],
      ),
    );
    return modifiedCount === 1;
  }

  async removeFollows(userId: string): Promise<number> {
    const id = toObjectId(userId);
    if (!id) return 0;
    const [following, followers] = await Promise.all([
      this.Follow.find({ followerId: id }).lean(),
      this.Follow.find({ followeeId: id }).lean(),
    ]);
    const edges = [...following, ...followers];
    let removed = 0;
    // Edge by edge: only the call whose deleteOne removed an edge moves the other
    // side's count, so a concurrent or repeated call never counts it twice.
    for (let i = 0; i < edges.length; i += 100) {
      const outcomes = await Promise.all(
        edges.slice(i, i + 100).map(async ({ followerId, followeeId }) => {
          const { deletedCount } = await this.Follow.deleteOne({ followerId, followeeId });
          if (deletedCount !== 1) return 0;
          const [other, count] = followerId.equals(id)
            ? [followeeId, 'followersCount']
            : [followerId, 'followingCount'];
          await this.User.updateOne({ _id: other, ...LIVE }, { $inc: { [count]: -1 } });
          return 1;
        }),
      );
      removed += outcomes.reduce<number>((sum, n) => sum + n, 0);
    }
    return removed;
  }

  async signOutEverywhere(id: string, at: Date, event: Envelope): Promise<boolean> {
    const _id = toObjectId(id);
    if (!_id) return false;
    const { modifiedCount } = await this.outbox.updateOne(
      { _id, ...TOMBSTONE_ABSENT },
      withMongoOutbox<mongoose.mongo.Document>({ $set: { signedOutAt: at } }, [event]),
    );
    return modifiedCount === 1;
  }

  /** A tombstone inserted for the id: the relay publishes the event and deletes it. */
  async emitForMissingUser(id: string, event: Envelope): Promise<boolean> {
    const _id = toObjectId(id) ?? id;
    const key = placeholder(String(id).toLowerCase());
    try {
      await this.outbox.insertOne({
        _id: _id as Types.ObjectId,
        deletedAt: new Date(),
        email: key,
        handle: key,
        ...mongoOutboxFields([event]),
      });
      return true;
    } catch (error) {
      // The id names a user, or a tombstone whose event is still on its way.
      if (duplicateKeyField(error) === 'id') return false;
      throw error;
    }
  }

  async followIdsWithoutUser(): Promise<string[]> {
    const [followers, followees] = await Promise.all([
      this.Follow.distinct('followerId'),
      this.Follow.distinct('followeeId'),
    ]);
    return idsWithoutUser(this, [...new Set([...followers, ...followees].map((id) => String(id)))]);
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
    const found = await this.User.countDocuments({
      _id: mongoose.trusted({ $in: [follower, followee] }),
      ...LIVE,
    });
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
