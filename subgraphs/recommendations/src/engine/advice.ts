import { MUSCLE_GROUPS } from '@fitness/events';
import type { MuscleGroup, RecommendationRecord } from '../datasources/models.js';
import { type CooccurrenceModel, RULES_WINDOW_MS, type UserFeatures } from '../features/model.js';
import { recommend, type TrainingSnapshot } from './rules.js';
import { suggestExercises } from './similarity.js';

/**
 * The event-fed engine: the muscle-group rules of rules.ts on the features
 * instead of `recentTraining`, plus what only per-exercise history supports:
 *
 * - PROGRESSIVE_OVERLOAD when the last {@link OVERLOAD_MIN_SESSIONS} or more sessions
 *   of an exercise were at one load and every set at that load reached the same,
 *   highest rep count of those sessions: the top of the range the user works in.
 * - TRY_EXERCISE from the co-occurrence model (similarity.ts), never one the user does.
 */

/** Sessions at one load, every set completed, before raising it is advised. @default 3 */
export const OVERLOAD_MIN_SESSIONS = 3;

/** Suggestions of new exercises per user. @default 3 */
export const TRY_EXERCISES = 3;

const LOWER_BODY: ReadonlySet<MuscleGroup> = new Set<MuscleGroup>(['LEGS', 'GLUTES', 'FULL_BODY']);

/**
 * The usual smallest step: 5 kg for legs and whole-body lifts, 2.5 kg for upper
 * body (the smallest pair of plates), 1 kg under 20 kg (dumbbells, cables).
 */
export function loadIncrement(muscleGroup: MuscleGroup, loadKg: number): number {
  if (loadKg < 20) return 1;
  return LOWER_BODY.has(muscleGroup) ? 5 : 2.5;
}

/** "barbell-bench-press" -> "Barbell bench press": ids are the catalogue's stable slugs. */
export const exerciseLabel = (id: string) => {
  const words = id.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const kg = (x: number) => `${Number.isInteger(x) ? x : x.toFixed(1).replace(/\.0$/, '')} kg`;

/** `recentTraining` rebuilt from the features, so the rules read what they always read. */
export function snapshotOf(features: UserFeatures, now: Date): TrainingSnapshot {
  return {
    since: new Date(now.getTime() - RULES_WINDOW_MS),
    groups: MUSCLE_GROUPS.map((muscleGroup) => {
      const g = features.muscleGroups.get(muscleGroup);
      return { muscleGroup, sets: g?.windowSets ?? 0, lastTrainedAt: g ? new Date(g.lastTrainedAt) : null };
    }),
  };
}

function overload(features: UserFeatures, now: Date): RecommendationRecord[] {
  const out: RecommendationRecord[] = [];
  for (const [exerciseId, sessions] of features.exercises) {
    const load = sessions[0]?.loadKg;
    if (load === null || load === undefined) continue;
    let streak = 0;
    while (streak < sessions.length && sessions[streak]!.loadKg === load) streak++;
    if (streak < OVERLOAD_MIN_SESSIONS) continue;
    const atLoad = sessions.slice(0, streak);
    if (atLoad.some((s) => s.repsAtLoad.length === 0)) continue;
    const target = Math.max(...atLoad.flatMap((s) => s.repsAtLoad));
    if (target < 1 || !atLoad.every((s) => s.repsAtLoad.every((r) => r >= target))) continue;
    const step = loadIncrement(sessions[0]!.muscleGroup, load);
    const name = exerciseLabel(exerciseId);
    out.push({
      id: `PROGRESSIVE_OVERLOAD:${exerciseId}`,
      kind: 'PROGRESSIVE_OVERLOAD',
      title: `Add ${kg(step)} to ${name}`,
      reason: `Your last ${streak} sessions of ${name} were all at ${kg(load)}, with every set done for ${target} reps. Try ${kg(load + step)} next time (+${kg(step)}) and work back up to ${target} reps.`,
      score: round3(Math.min(0.95, 0.8 + 0.03 * (streak - OVERLOAD_MIN_SESSIONS))),
      exercise: { id: exerciseId },
      generatedAt: new Date(now.getTime()),
    });
  }
  return out;
}

function tryExercises(
  done: ReadonlySet<string>,
  model: CooccurrenceModel,
  now: Date,
): RecommendationRecord[] {
  const suggestions = suggestExercises(done, model, TRY_EXERCISES);
  const top = suggestions[0]?.score ?? 1;
  return suggestions.map((s, i) => {
    const name = exerciseLabel(s.exerciseId);
    const reason =
      s.source === 'similar'
        ? `${Math.round((s.share ?? 0) * 100)}% of the people who do ${exerciseLabel(s.because!)}, as you do, also do ${name}.`
        : done.size === 0
          ? `${name} is one of the exercises people do most.`
          : `${name} is popular with people who train ${(s.muscleGroup ?? 'FULL_BODY').toLowerCase().replace('_', ' ')}, as you do, and you have not tried it yet.`;
    // Below overload advice and most "train X" advice: a new exercise is an option, not a need.
    const relative = s.source === 'similar' ? s.score / top : 0;
    return {
      id: `TRY_EXERCISE:${s.exerciseId}`,
      kind: 'TRY_EXERCISE' as const,
      title: `Try ${name}`,
      reason,
      score: round3(0.3 + 0.2 * relative - 0.01 * i),
      exercise: { id: s.exerciseId },
      generatedAt: new Date(now.getTime()),
    };
  });
}

export interface AdviceInput {
  features: UserFeatures;
  /** Every exercise the user has done (the features hold only recent ones). */
  done: ReadonlySet<string>;
  model: CooccurrenceModel;
  now: Date;
}

/**
 * Each further item of one kind keeps this share of the score of the one before:
 * six untrained groups would otherwise fill a short list (the Dashboard shows 3)
 * and hide the one piece of advice about an exercise. @default 0.92
 */
export const SAME_KIND_DECAY = 0.92;

const byScore = (a: RecommendationRecord, b: RecommendationRecord) =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Every kind of advice for one user, best first (ties by id). Pure given its input. */
export function adviseFromFeatures({ features, done, model, now }: AdviceInput): RecommendationRecord[] {
  const all = [
    ...recommend(snapshotOf(features, now), now),
    ...overload(features, now),
    ...tryExercises(new Set([...done, ...features.exercises.keys()]), model, now),
  ].sort(byScore);
  const seen = new Map<string, number>();
  for (const r of all) {
    const rank = seen.get(r.kind) ?? 0;
    seen.set(r.kind, rank + 1);
    r.score = round3(r.score * SAME_KIND_DECAY ** rank);
  }
  return all.sort(byScore);
}
