import { afterAll, describe, expect, it } from 'vitest';
import { boardId, currentBoard, PERIOD_GRACE_MS, planChange } from '../../src/leaderboards/boards.js';
import type { LeaderboardStore } from '../../src/leaderboards/LeaderboardStore.js';
import type { BoardRef, BoardSpec } from '../../src/leaderboards/model.js';
import { change, deletion, engines } from './helpers.js';

const now = new Date();
const board = (spec: Partial<BoardSpec> = {}): BoardRef =>
  currentBoard({ metric: 'VOLUME_KG', period: 'WEEK', region: null, ...spec }, now);

describe.each(engines())('LeaderboardStore contract on $name', (engine) => {
  const opened: { store: LeaderboardStore }[] = [];
  /** Each test gets its own store (own key prefix): boards start empty. */
  const fresh = () => {
    const o = engine.open();
    opened.push(o);
    return o.store;
  };

  afterAll(async () => {
    for (const o of opened) await o.store.close();
  });

  it('should rank users by score, best first, with scores in the metric unit', async () => {
    const store = fresh();
    await store.apply(change({ userId: 'ann', volumeKg: 1200.5 }));
    await store.apply(change({ userId: 'bob', volumeKg: 3000 }));
    await store.apply(change({ userId: 'ann', volumeKg: 0.25 }));
    const top = await store.top(board(), 10);
    expect(top.entries).toEqual([
      { userId: 'bob', score: 3000 },
      { userId: 'ann', score: 1200.75 },
    ]);
    expect(top.updatedAt).toBeInstanceOf(Date);
    expect((await store.top(board({ metric: 'WORKOUTS' }), 10)).entries).toEqual([
      { userId: 'ann', score: 2 },
      { userId: 'bob', score: 1 },
    ]);
  });

  it('should break ties by user id, lower first, whatever the order of arrival', async () => {
    const store = fresh();
    for (const userId of ['carol', 'al', 'bo', 'zed']) await store.apply(change({ userId, volumeKg: 500 }));
    await store.apply(change({ userId: 'top', volumeKg: 900 }));
    const top = await store.top(board(), 10);
    expect(top.entries.map((e) => e.userId)).toEqual(['top', 'al', 'bo', 'carol', 'zed']);
    expect((await store.top(board(), 2)).entries.map((e) => e.userId)).toEqual(['top', 'al']);
  });

  it('should count the same workout once however often it is delivered', async () => {
    const store = fresh();
    const c = change({ userId: 'ann', volumeKg: 100 });
    expect((await store.apply(c)).outcome).toBe('applied');
    expect(await store.apply(c)).toEqual({ outcome: 'duplicate', boards: [] });
    // Even under another event id (a producer re-emitting the same fact).
    expect((await store.apply({ ...c, eventId: crypto.randomUUID() })).outcome).toBe('duplicate');
    const concurrent = change({ userId: 'bob', volumeKg: 50 });
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => store.apply(concurrent)));
    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect((await store.top(board(), 10)).entries).toEqual([
      { userId: 'ann', score: 100 },
      { userId: 'bob', score: 50 },
    ]);
  });

  it('should treat changes marked applied (by a rebuild) as duplicates, and nothing else', async () => {
    const store = fresh();
    const counted = change({ userId: 'ann', volumeKg: 100 });
    const removed = change({ userId: 'bob', volumeKg: 70 });
    const newcomer = change({ userId: 'cy', volumeKg: 30 });
    await store.markApplied([
      { workoutId: counted.workoutId, kind: 'logged' },
      { workoutId: removed.workoutId, kind: 'logged' },
      { workoutId: removed.workoutId, kind: 'deleted' },
    ]);
    expect((await store.top(board(), 10)).entries).toEqual([]);
    expect((await store.apply(counted)).outcome).toBe('duplicate');
    expect((await store.apply(removed)).outcome).toBe('duplicate');
    expect((await store.apply(deletion(removed))).outcome).toBe('duplicate');
    expect((await store.apply(deletion(counted))).outcome).toBe('applied');
    expect((await store.apply(newcomer)).outcome).toBe('applied');
    expect((await store.top(board(), 10)).entries).toEqual([{ userId: 'cy', score: 30 }]);
  });

  it('should subtract a deletion, and drop a user whose score is back at zero', async () => {
    const store = fresh();
    const a = change({ userId: 'ann', volumeKg: 10.1 });
    const b = change({ userId: 'ann', volumeKg: 20.2 });
    await store.apply(a);
    await store.apply(b);
    await store.apply(deletion(a));
    await store.apply(deletion(a));
    expect((await store.top(board(), 10)).entries).toEqual([{ userId: 'ann', score: 20.2 }]);
    await store.apply(deletion(b));
    expect((await store.top(board(), 10)).entries).toEqual([]);
    expect((await store.top(board({ metric: 'WORKOUTS' }), 10)).entries).toEqual([]);
  });

  it('should end the same when a deletion arrives before its logging', async () => {
    const store = fresh();
    const keep = change({ userId: 'bob', volumeKg: 5 });
    const gone = change({ userId: 'ann', volumeKg: 70 });
    await store.apply(keep);
    await store.apply(deletion(gone));
    // The pending negative total is not shown.
    expect((await store.top(board(), 10)).entries).toEqual([{ userId: 'bob', score: 5 }]);
    await store.apply(gone);
    await store.apply(gone);
    expect((await store.top(board(), 10)).entries).toEqual([{ userId: 'bob', score: 5 }]);
  });

  it('should keep regional boards apart and sum them on the all-regions board', async () => {
    const store = fresh();
    await store.apply(change({ userId: 'eu', region: 'EU', volumeKg: 1 }));
    await store.apply(change({ userId: 'us', region: 'US', volumeKg: 2 }));
    await store.apply(change({ userId: 'none', region: null, volumeKg: 3 }));
    expect((await store.top(board({ region: 'EU' }), 10)).entries.map((e) => e.userId)).toEqual(['eu']);
    expect((await store.top(board({ region: 'APAC' }), 10)).entries).toEqual([]);
    expect((await store.top(board(), 10)).entries.map((e) => e.userId)).toEqual(['none', 'us', 'eu']);
  });

  it('should report which boards a change touched', async () => {
    const store = fresh();
    const result = await store.apply(change({ region: 'US', distanceM: 0 }));
    expect(result.outcome).toBe('applied');
    expect(result.boards).toContain(boardId(board({ region: 'US' })));
    expect(result.boards).not.toContain(boardId(board({ metric: 'DISTANCE_M' })));
  });

  it('should set period boards to expire their grace after the period, and ALL_TIME never', async () => {
    const store = fresh();
    await store.apply(change());
    for (const period of ['DAY', 'WEEK', 'MONTH'] as const) {
      const ref = board({ period });
      const expiry = await store.expiry(ref);
      const { periodEndOf } = await import('../../src/leaderboards/boards.js');
      expect(expiry?.getTime()).toBe(periodEndOf(period, ref.periodStart)!.getTime() + PERIOD_GRACE_MS);
    }
    expect(await store.expiry(board({ period: 'ALL_TIME' }))).toBeNull();
    expect(await store.expiry(board({ region: 'APAC' }))).toBeUndefined();
  });

  it('should replace a board at once (rebuild), keeping only positive scores, with its expiry', async () => {
    const store = fresh();
    await store.apply(change({ userId: 'old', volumeKg: 1 }));
    const ref = board();
    await store.replace(
      ref,
      new Map([
        ['x', 2500],
        ['y', 0],
        ['z', 7000],
      ]),
    );
    expect((await store.top(ref, 10)).entries).toEqual([
      { userId: 'z', score: 7 },
      { userId: 'x', score: 2.5 },
    ]);
    expect(await store.expiry(ref)).toBeInstanceOf(Date);
    await store.replace(ref, new Map());
    expect((await store.top(ref, 10)).entries).toEqual([]);
    const allTime = board({ period: 'ALL_TIME' });
    await store.replace(allTime, new Map([['x', 1000]]));
    expect(await store.expiry(allTime)).toBeNull();
  });

  it('should remove an erased user from every board of every period and region, and no one else', async () => {
    const store = fresh();
    const yesterday = new Date(now.getTime() - 24 * 3600_000);
    const gone = [
      change({ userId: 'gone', region: 'EU', startedAt: now }),
      change({ userId: 'gone', region: 'US', startedAt: yesterday, distanceM: 5000 }),
    ];
    for (const c of gone) await store.apply(c, now);
    await store.apply(change({ userId: 'kept', region: 'EU', startedAt: now }), now);
    const touched = new Set(gone.flatMap((c) => planChange(c, now).map((d) => d.id)));
    expect(await store.userIds(now)).toEqual(new Set(['gone', 'kept']));
    const erased = await store.eraseUser('gone', now);
    expect(new Set(erased)).toEqual(touched);
    for (const ref of gone.flatMap((c) => planChange(c, now).map((d) => d.ref))) {
      expect((await store.top(ref, 10)).entries.map((e) => e.userId)).not.toContain('gone');
    }
    expect((await store.top(board({ region: 'EU' }), 10)).entries).toEqual([{ userId: 'kept', score: 1000 }]);
    expect(await store.userIds(now)).toEqual(new Set(['kept']));
  });

  it('should let no late event of an erased user back on a board, and erase twice as once', async () => {
    const store = fresh();
    await store.apply(change({ userId: 'gone' }), now);
    await store.eraseUser('gone', now);
    expect(await store.userIds(now)).toEqual(new Set());
    const late = await store.apply(change({ userId: 'gone' }), now);
    expect(late).toEqual({ outcome: 'erased', boards: [] });
    expect((await store.top(board(), 10)).entries).toEqual([]);
    expect(await store.eraseUser('gone', now)).toEqual([]);
    // Others still count.
    expect((await store.apply(change({ userId: 'other' }), now)).outcome).toBe('applied');
  });

  it('should answer ping', async () => {
    expect(await fresh().ping()).toBe(true);
  });
});
