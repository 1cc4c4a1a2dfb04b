/**
 * `pnpm --filter @fitness/recommendations eval`: offline evaluation of TRY_EXERCISE
 * (not a test). Generates training histories (generator.ts), holds out each
 * user's last sessions, feeds everything else through the production read model
 * (MemoryFeatureStore: the same apply as the consumer), and scores the top 5
 * suggestions of item-based collaborative filtering (similarity.ts, with its
 * same-muscle-group cold start) against the most popular exercises, both never
 * suggesting an exercise the user did before the held-out sessions.
 *
 * A user counts when the held-out sessions contain an exercise new to them (an
 * exercise rotation); hit-rate@5 is the share of those users with at least one
 * new exercise in the top 5, NDCG@5 the binary-relevance discounted gain.
 *
 * EVAL_USERS (3,000), EVAL_SEED (42), EVAL_HOLDOUT sessions per user (6).
 */
import { popularExercises, suggestExercises } from '../src/engine/similarity.js';
import { MemoryFeatureStore } from '../src/features/MemoryFeatureStore.js';
import type { CooccurrenceModel } from '../src/features/model.js';
import { generateHistories } from './generator.js';

const K = 5;
const users = Number(process.env.EVAL_USERS ?? 3000);
const seed = Number(process.env.EVAL_SEED ?? 42);
const holdout = Number(process.env.EVAL_HOLDOUT ?? 6);
const end = new Date('2026-11-30T00:00:00.000Z');

const started = Date.now();
const histories = generateHistories({ users, seed, end });
const store = new MemoryFeatureStore();
const targets = new Map<string, Set<string>>();
let trained = 0;
for (const h of histories) {
  const cut = Math.max(0, h.workouts.length - holdout);
  const seen = new Set<string>();
  for (const w of h.workouts.slice(0, cut)) {
    await store.apply(w, end);
    trained++;
    for (const s of w.sets ?? []) seen.add(s.exerciseId);
  }
  const fresh = new Set<string>();
  for (const w of h.workouts.slice(cut))
    for (const s of w.sets ?? []) if (!seen.has(s.exerciseId)) fresh.add(s.exerciseId);
  if (fresh.size > 0 && seen.size > 0) targets.set(h.userId, fresh);
}
const model: CooccurrenceModel = await store.model();

interface Score {
  hits: number;
  ndcg: number;
}
const score = (ranked: readonly string[], relevant: ReadonlySet<string>): Score => {
  let dcg = 0;
  for (const [i, e] of ranked.slice(0, K).entries()) if (relevant.has(e)) dcg += 1 / Math.log2(i + 2);
  let ideal = 0;
  for (let i = 0; i < Math.min(K, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return { hits: ranked.slice(0, K).some((e) => relevant.has(e)) ? 1 : 0, ndcg: dcg / ideal };
};

const totals = { cf: { hits: 0, ndcg: 0 }, popular: { hits: 0, ndcg: 0 } };
for (const [userId, relevant] of targets) {
  const done = await store.exercisesOf(userId);
  const cf = score(
    suggestExercises(done, model, K).map((s) => s.exerciseId),
    relevant,
  );
  const popular = score(popularExercises(done, model, K), relevant);
  totals.cf.hits += cf.hits;
  totals.cf.ndcg += cf.ndcg;
  totals.popular.hits += popular.hits;
  totals.popular.ndcg += popular.ndcg;
}

const n = targets.size;
const fmt = (x: number) => x.toFixed(3);
const rows = [
  ['', `hit-rate@${K}`, `NDCG@${K}`],
  ['item-based CF (TRY_EXERCISE)', fmt(totals.cf.hits / n), fmt(totals.cf.ndcg / n)],
  ['popularity baseline', fmt(totals.popular.hits / n), fmt(totals.popular.ndcg / n)],
  [
    'CF / baseline',
    `${(totals.cf.hits / totals.popular.hits).toFixed(2)}x`,
    `${(totals.cf.ndcg / totals.popular.ndcg).toFixed(2)}x`,
  ],
];
const width = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
process.stdout.write(
  [
    `users ${users} (seed ${seed}), workouts ${histories.reduce((a, h) => a + h.workouts.length, 0)}, trained on ${trained}, last ${holdout} sessions held out`,
    `evaluated users (a new exercise in the held-out sessions): ${n}; exercises in the model: ${model.users.size}, pairs: ${model.pairs.size}`,
    '',
    ...rows.map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(width[c]!) : cell.padStart(width[c]!))).join('  '),
    ),
    '',
    `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    '',
  ].join('\n'),
);
