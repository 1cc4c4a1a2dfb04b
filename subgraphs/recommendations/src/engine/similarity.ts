import type { MuscleGroup } from '../datasources/models.js';
import type { CooccurrenceModel } from '../features/model.js';

/** A candidate exercise and why it was chosen. */
export interface Suggestion {
  exerciseId: string;
  /** Higher is better; comparable within one call only. */
  score: number;
  /**
   * 'similar': item-based collaborative filtering; `because` is the exercise of
   * the user's that contributed most, `share` the fraction of its users who also
   * do the suggestion. 'popular': the cold start, by users in the user's groups.
   */
  source: 'similar' | 'popular';
  because?: string;
  share?: number;
  muscleGroup?: MuscleGroup;
}

/**
 * Pairs seen in fewer users than this say more about chance than taste: their
 * cosine is shrunk towards 0 (a/(a+SHRINK) of it kept).
 * @default 5
 */
export const SHRINK = 5;

/**
 * Item-based collaborative filtering on the user-exercise incidence of all users:
 * cos(i, j) = users(i and j) / sqrt(users(i) * users(j)), shrunk for rare pairs; a
 * candidate scores the sum of its similarities to the exercises the user does.
 * Never suggests one of `done`. When fewer than `k` candidates are similar to
 * anything the user does (a new user, a new exercise), the rest come from
 * same-muscle-group popularity: exercises of the groups the user trains (all
 * groups when none), by users, after every similar one.
 */
export function suggestExercises(
  done: ReadonlySet<string>,
  model: CooccurrenceModel,
  k: number,
): Suggestion[] {
  const scores = new Map<string, { score: number; because: string; best: number; share: number }>();
  const users = (e: string) => model.users.get(e) ?? 0;
  for (const [key, both] of model.pairs) {
    if (both <= 0) continue;
    const [a, b] = key.split('|') as [string, string];
    for (const [mine, other] of [
      [a, b],
      [b, a],
    ] as const) {
      if (!done.has(mine) || done.has(other)) continue;
      const denominator = Math.sqrt(users(mine) * users(other));
      if (denominator === 0) continue;
      const sim = (both / denominator) * (both / (both + SHRINK));
      const entry = scores.get(other) ?? { score: 0, because: mine, best: 0, share: 0 };
      entry.score += sim;
      if (sim > entry.best) {
        entry.best = sim;
        entry.because = mine;
        entry.share = both / users(mine);
      }
      scores.set(other, entry);
    }
  }
  const similar: Suggestion[] = [...scores]
    .map(([exerciseId, s]) => ({
      exerciseId,
      score: s.score,
      source: 'similar' as const,
      because: s.because,
      share: s.share,
    }))
    .sort((x, y) => y.score - x.score || (x.exerciseId < y.exerciseId ? -1 : 1))
    .slice(0, k);
  if (similar.length >= k) return similar;
  const groups = new Set([...done].map((e) => model.groups.get(e)).filter((g) => g !== undefined));
  const taken = new Set(similar.map((s) => s.exerciseId));
  const popular: Suggestion[] = [...model.users]
    .filter(([e, n]) => n > 0 && !done.has(e) && !taken.has(e))
    .filter(([e]) => groups.size === 0 || groups.has(model.groups.get(e)!))
    .sort(([x, nx], [y, ny]) => ny - nx || (x < y ? -1 : 1))
    .slice(0, k - similar.length)
    .map(([exerciseId, n]) => ({
      exerciseId,
      score: n,
      source: 'popular' as const,
      ...(model.groups.has(exerciseId) ? { muscleGroup: model.groups.get(exerciseId)! } : {}),
    }));
  return [...similar, ...popular];
}

/** The cold-start baseline the evaluation compares against: the most done exercises overall. */
export function popularExercises(done: ReadonlySet<string>, model: CooccurrenceModel, k: number): string[] {
  return [...model.users]
    .filter(([e, n]) => n > 0 && !done.has(e))
    .sort(([x, nx], [y, ny]) => ny - nx || (x < y ? -1 : 1))
    .slice(0, k)
    .map(([e]) => e);
}
