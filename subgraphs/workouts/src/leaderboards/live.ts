import type { Logger } from 'pino';
import type { LeaderboardInput } from '../__generated__/resolvers-types.js';
import { boardId, currentBoard, periodEndOf } from './boards.js';
import { parseBoardInput } from './input.js';
import type { LeaderboardStore } from './LeaderboardStore.js';
import type { BoardSpec, LeaderboardSnapshot } from './model.js';
import type { BoardNotices } from './notices.js';

/** setTimeout's largest delay; a month is longer, so period timers re-arm in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LiveBoardsOptions {
  store: LeaderboardStore;
  notices: BoardNotices;
  logger: Logger;
  /** Snapshots per board and second at most; the latest state wins. @default 4 */
  maxUpdatesPerSecond?: number;
}

/** What decides whether a snapshot is news to a subscriber (updatedAt alone is not). */
const contentKey = (s: LeaderboardSnapshot) =>
  JSON.stringify([s.periodStart?.getTime() ?? null, s.entries.map((e) => [e.userId, e.score])]);

/**
 * One subscriber's stream. It holds at most ONE undelivered snapshot: a newer one
 * replaces it (snapshots are complete), so a slow reader costs no memory and
 * always gets the latest board next.
 */
class SnapshotStream implements AsyncIterableIterator<LeaderboardSnapshot> {
  private pending: LeaderboardSnapshot | undefined;
  private waiter: ((r: IteratorResult<LeaderboardSnapshot>) => void) | undefined;
  private lastKey: string | undefined;
  private ended = false;

  constructor(private readonly onEnd: (stream: SnapshotStream) => void) {}

  /** Queues the snapshot unless this subscriber already has the same content. */
  offer(snapshot: LeaderboardSnapshot): void {
    if (this.ended) return;
    const key = contentKey(snapshot);
    if (key === this.lastKey) return;
    this.lastKey = key;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter({ value: snapshot, done: false });
    } else {
      this.pending = snapshot;
    }
  }

  next(): Promise<IteratorResult<LeaderboardSnapshot>> {
    if (this.pending) {
      const value = this.pending;
      this.pending = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Unsubscribe: called by graphql-ws when the client completes or disconnects. */
  return(): Promise<IteratorResult<LeaderboardSnapshot>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.pending = undefined;
    this.onEnd(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** Subscribers of one (board spec, first): they share reads and the rate limit. */
interface Group {
  key: string;
  spec: BoardSpec;
  first: number;
  streams: Set<SnapshotStream>;
  /** a refresh is scheduled */
  timer: NodeJS.Timeout | undefined;
  /** a read is in flight; another notice came in meanwhile */
  reading: boolean;
  dirty: boolean;
  lastReadAt: number;
  periodTimer: NodeJS.Timeout | undefined;
}

/**
 * The subscription manager of one replica: reads boards for Query.leaderboard and
 * serves Subscription.leaderboardUpdated. Change notices (from whichever replica
 * applied the event) mark groups dirty; a dirty group is re-read at most
 * `maxUpdatesPerSecond` times a second (leading edge at once, then one trailing
 * read that sees every change before it), and each subscriber gets the snapshot
 * when its content differs from what it last got. A DAY/WEEK/MONTH group is also
 * re-read when its period rolls over (the board becomes a new, usually empty one).
 */
export class LiveBoards {
  private readonly groups = new Map<string, Group>();
  private readonly intervalMs: number;
  private stopped = false;

  constructor(private readonly options: LiveBoardsOptions) {
    const rate = options.maxUpdatesPerSecond ?? 4;
    if (!(rate > 0)) throw new Error('maxUpdatesPerSecond must be > 0');
    this.intervalMs = 1000 / rate;
  }

  /** Starts listening to change notices. */
  async start(): Promise<void> {
    await this.options.notices.listen((ids) => this.onNotice(ids));
  }

  /** The current period's top of a board (Query.leaderboard). */
  snapshot(input: LeaderboardInput): Promise<LeaderboardSnapshot> {
    const { spec, first } = parseBoardInput(input);
    return this.read(spec, first);
  }

  /**
   * A live stream of snapshots of a board (Subscription.leaderboardUpdated): the
   * current one first, then one per change (coalesced). BAD_USER_INPUT is thrown
   * here, before the stream exists.
   */
  async watch(input: LeaderboardInput): Promise<AsyncIterableIterator<LeaderboardSnapshot>> {
    if (this.stopped) throw new Error('live leaderboards are stopped');
    const { spec, first } = parseBoardInput(input);
    const group = this.groupOf(spec, first);
    const stream = new SnapshotStream((s) => this.leave(group, s));
    // Join before reading: a change after this read is then always followed by a refresh.
    group.streams.add(stream);
    try {
      stream.offer(await this.read(spec, first));
    } catch (error) {
      stream.end();
      throw error;
    }
    return stream;
  }

  /** Live groups and subscribers, for logs and tests. */
  stats(): { groups: number; subscribers: number } {
    let subscribers = 0;
    for (const g of this.groups.values()) subscribers += g.streams.size;
    return { groups: this.groups.size, subscribers };
  }

  /** Ends every stream (clients see `complete`) and clears timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const group of [...this.groups.values()]) for (const s of [...group.streams]) s.end();
    this.groups.clear();
  }

  private async read(spec: BoardSpec, first: number): Promise<LeaderboardSnapshot> {
    const now = new Date();
    const ref = currentBoard(spec, now);
    const top = await this.options.store.top(ref, first);
    return {
      ...ref,
      // A board nothing has touched yet is as of its period's start (or now, for ALL_TIME).
      updatedAt: top.updatedAt ?? ref.periodStart ?? now,
      entries: top.entries.map((e, i) => ({ rank: i + 1, score: e.score, userId: e.userId })),
    };
  }

  private groupOf(spec: BoardSpec, first: number): Group {
    const key = `${spec.metric}:${spec.period}:${spec.region ?? 'ALL'}#${first}`;
    let group = this.groups.get(key);
    if (!group) {
      group = {
        key,
        spec,
        first,
        streams: new Set(),
        timer: undefined,
        reading: false,
        dirty: false,
        lastReadAt: 0,
        periodTimer: undefined,
      };
      this.groups.set(key, group);
      this.armPeriodTimer(group);
    }
    return group;
  }

  private leave(group: Group, stream: SnapshotStream): void {
    group.streams.delete(stream);
    if (group.streams.size > 0 || this.groups.get(group.key) !== group) return;
    clearTimeout(group.timer);
    clearTimeout(group.periodTimer);
    this.groups.delete(group.key);
  }

  private onNotice(ids: readonly string[]): void {
    if (this.groups.size === 0) return;
    const changed = new Set(ids);
    const now = new Date();
    for (const group of this.groups.values()) {
      if (changed.has(boardId(currentBoard(group.spec, now)))) this.schedule(group);
    }
  }

  private schedule(group: Group): void {
    if (group.reading) {
      group.dirty = true;
      return;
    }
    if (group.timer) return; // the scheduled read will see this change too
    const delay = Math.max(0, group.lastReadAt + this.intervalMs - Date.now());
    group.timer = setTimeout(() => void this.refresh(group), delay);
  }

  private async refresh(group: Group): Promise<void> {
    group.timer = undefined;
    if (this.groups.get(group.key) !== group) return;
    group.reading = true;
    group.lastReadAt = Date.now();
    try {
      const snapshot = await this.read(group.spec, group.first);
      for (const stream of group.streams) stream.offer(snapshot);
    } catch (err) {
      // Subscribers keep their last snapshot; the next change retries the read.
      this.options.logger.warn({ err, board: group.key }, 'could not refresh a live leaderboard');
    } finally {
      group.reading = false;
    }
    if (group.dirty) {
      group.dirty = false;
      this.schedule(group);
    }
  }

  private armPeriodTimer(group: Group): void {
    const now = Date.now();
    const end = periodEndOf(group.spec.period, currentBoard(group.spec, new Date(now)).periodStart);
    if (!end) return;
    // A few ms past the boundary, so the read after it is surely in the new period.
    const delay = end.getTime() - now + 5;
    group.periodTimer = setTimeout(
      () => {
        if (this.groups.get(group.key) !== group) return;
        if (delay <= MAX_TIMER_MS) this.schedule(group);
        this.armPeriodTimer(group);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    group.periodTimer.unref();
  }
}
