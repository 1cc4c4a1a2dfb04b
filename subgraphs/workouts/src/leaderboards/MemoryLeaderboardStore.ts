import { boardId, expiresAt, planChange, scoreOf } from './boards.js';
import { DEDUPE_TTL_MS, type LeaderboardStore } from './LeaderboardStore.js';
import type { ApplyResult, BoardRef, BoardTop, WorkoutChange } from './model.js';

interface Board {
  /** user id -> thousandths */
  units: Map<string, number>;
  updatedAt: Date;
  expiresAt: Date | null;
}

const SWEEP_EVERY_MS = 60_000;

/**
 * The in-process adapter (REDIS_URL unset): the same semantics as Redis in
 * plain maps. Every call runs to completion without awaiting, which makes each
 * apply atomic in a single process. Expired boards and markers are dropped when
 * read and by a sweep at most once a minute.
 */
export class MemoryLeaderboardStore implements LeaderboardStore {
  private readonly boards = new Map<string, Board>();
  private readonly markers = new Map<string, number>();
  /** user id -> until when late events of the erased user are ignored */
  private readonly erased = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  async apply(change: WorkoutChange, now = new Date(this.clock())): Promise<ApplyResult> {
    this.sweep();
    const marker = `${change.workoutId}:${change.kind}`;
    const seen = this.markers.get(marker);
    if (seen !== undefined && seen > this.clock()) return { outcome: 'duplicate', boards: [] };
    if ((this.erased.get(change.userId) ?? 0) > this.clock()) return { outcome: 'erased', boards: [] };
    this.markers.set(marker, now.getTime() + DEDUPE_TTL_MS);
    const deltas = planChange(change, now);
    for (const { id, delta, expiresAt } of deltas) {
      const board = this.live(id) ?? { units: new Map(), updatedAt: now, expiresAt };
      const total = (board.units.get(change.userId) ?? 0) + delta;
      if (total === 0) board.units.delete(change.userId);
      else board.units.set(change.userId, total);
      board.updatedAt = now;
      board.expiresAt = expiresAt;
      this.boards.set(id, board);
    }
    return { outcome: 'applied', boards: deltas.map((d) => d.id) };
  }

  async eraseUser(userId: string, now = new Date(this.clock())): Promise<string[]> {
    this.erased.set(userId, now.getTime() + DEDUPE_TTL_MS);
    const changed: string[] = [];
    for (const [id, board] of this.boards) {
      if (!this.live(id) || !board.units.delete(userId)) continue;
      board.updatedAt = now;
      changed.push(id);
    }
    return changed;
  }

  async userIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const id of [...this.boards.keys()])
      for (const userId of this.live(id)?.units.keys() ?? []) ids.add(userId);
    return ids;
  }

  async top(ref: BoardRef, n: number): Promise<BoardTop> {
    const board = this.live(boardId(ref));
    if (!board) return { entries: [], updatedAt: null };
    const entries = [...board.units]
      .filter(([, units]) => units > 0)
      .sort(([a, ua], [b, ub]) => ub - ua || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, n)
      .map(([userId, units]) => ({ userId, score: scoreOf(units) }));
    return { entries, updatedAt: board.updatedAt };
  }

  async replace(
    ref: BoardRef,
    units: ReadonlyMap<string, number>,
    now = new Date(this.clock()),
  ): Promise<void> {
    const kept = new Map([...units].filter(([, u]) => u > 0));
    this.boards.set(boardId(ref), { units: kept, updatedAt: now, expiresAt: expiresAt(ref) });
  }

  async markApplied(
    changes: readonly Pick<WorkoutChange, 'workoutId' | 'kind'>[],
    now = new Date(this.clock()),
  ): Promise<void> {
    for (const c of changes) this.markers.set(`${c.workoutId}:${c.kind}`, now.getTime() + DEDUPE_TTL_MS);
  }

  async expiry(ref: BoardRef): Promise<Date | null | undefined> {
    const board = this.live(boardId(ref));
    return board ? board.expiresAt : undefined;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.boards.clear();
    this.markers.clear();
    this.erased.clear();
  }

  private live(id: string): Board | undefined {
    const board = this.boards.get(id);
    if (board?.expiresAt && board.expiresAt.getTime() <= this.clock()) {
      this.boards.delete(id);
      return undefined;
    }
    return board;
  }

  private sweep(): void {
    const now = this.clock();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [id, board] of this.boards)
      if (board.expiresAt && board.expiresAt.getTime() <= now) this.boards.delete(id);
    for (const [key, until] of this.markers) if (until <= now) this.markers.delete(key);
    for (const [userId, until] of this.erased) if (until <= now) this.erased.delete(userId);
  }
}
