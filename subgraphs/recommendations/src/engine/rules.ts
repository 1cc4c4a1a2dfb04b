import type {
  MuscleGroup,
  RecentTrainingInput,
  RecommendationKind,
  RecommendationRecord,
} from '../datasources/models.js';

/**
 * The first, rule-based recommendation engine: pure and deterministic given `now`.
 *
 * Its only input is `User.recentTraining` (per-group set counts and last-trained
 * times over a 28-day window), so it can say no more than those numbers support:
 *
 * - TRAIN_MUSCLE_GROUP for a major group not trained for {@link STALE_AFTER_DAYS}
 *   days or more, or not at all in the window; the score rises with the days.
 * - RECOVERY for a group trained less than {@link RECOVERY_WITHIN_HOURS} hours ago
 *   with {@link HEAVY_SETS} sets or more in the window.
 * - A welcoming full-body start when nothing at all was trained in the window.
 *
 * PROGRESSIVE_OVERLOAD and TRY_EXERCISE need per-exercise loads and every user's
 * history, which this input does not carry: the event-fed engine (advice.ts) adds
 * them and runs these same rules on its features. Here `exercise` stays null.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A major group untrained this long is worth training. @default 5 */
export const STALE_AFTER_DAYS = 5;

/** Sets in the window from which recent training counts as heavy. @default 15 */
export const HEAVY_SETS = 15;

/** A heavy group trained less than this many hours ago should rest. @default 24 */
export const RECOVERY_WITHIN_HOURS = 24;

/**
 * The groups a balanced programme trains regularly. FULL_BODY and CARDIO are left
 * out on purpose: they are session styles rather than muscles that go stale.
 */
export const MAJOR_MUSCLE_GROUPS: readonly MuscleGroup[] = [
  'CHEST',
  'BACK',
  'SHOULDERS',
  'ARMS',
  'CORE',
  'LEGS',
  'GLUTES',
];

/**
 * Groups that can need recovery. CARDIO is left out: a count of cardio "sets" says
 * little about load, so 15 of them is no reason to advise rest.
 */
const RECOVERY_GROUPS: ReadonlySet<MuscleGroup> = new Set<MuscleGroup>([...MAJOR_MUSCLE_GROUPS, 'FULL_BODY']);

const LABELS: Record<MuscleGroup, string> = {
  CHEST: 'chest',
  BACK: 'back',
  SHOULDERS: 'shoulders',
  ARMS: 'arms',
  CORE: 'core',
  LEGS: 'legs',
  GLUTES: 'glutes',
  FULL_BODY: 'full body',
  CARDIO: 'cardio',
};

/** One group's training with times parsed. */
export interface GroupTraining {
  muscleGroup: MuscleGroup;
  sets: number;
  lastTrainedAt: Date | null;
}

/** `recentTraining` with times parsed and groups in a canonical order. */
export interface TrainingSnapshot {
  since: Date;
  groups: GroupTraining[];
}

function parseTime(value: Date | string, field: string): Date {
  const date = value instanceof Date ? new Date(value.getTime()) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`recentTraining.${field} is not a date-time: ${value}`);
  return date;
}

/**
 * Parses the representation's training into a snapshot. Groups are sorted by
 * name so that equal training gives an equal snapshot (and cache key) whatever the
 * order workouts listed them in. Throws on a malformed date-time: that is a broken
 * contract with workouts, not something to guess around.
 */
export function toSnapshot(input: RecentTrainingInput): TrainingSnapshot {
  const groups = input.muscleGroups
    .map((g) => ({
      muscleGroup: g.muscleGroup,
      sets: g.sets,
      lastTrainedAt: g.lastTrainedAt === null ? null : parseTime(g.lastTrainedAt, 'lastTrainedAt'),
    }))
    .sort((a, b) => (a.muscleGroup < b.muscleGroup ? -1 : a.muscleGroup > b.muscleGroup ? 1 : 0));
  return { since: parseTime(input.since, 'since'), groups };
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** Rounded to 3 decimals so that scores read well and compare exactly in tests. */
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * 0.4 at {@link STALE_AFTER_DAYS}, rising towards 1 with every further day
 * (about 0.78 at 15 days, 0.94 at 28) and never reaching it, so that a longer gap
 * always ranks higher.
 */
export function staleScore(days: number): number {
  return round3(1 - 0.6 * Math.exp(-Math.max(0, days - STALE_AFTER_DAYS) / 10));
}

/**
 * 0.7 at {@link HEAVY_SETS} sets, +0.02 per further set, capped at 1: rest after a
 * heavy block outranks most "train X" advice because ignoring it risks injury.
 */
export function recoveryScore(sets: number): number {
  return round3(Math.min(1, 0.7 + 0.02 * Math.max(0, sets - HEAVY_SETS)));
}

function advice(
  kind: RecommendationKind,
  muscleGroup: MuscleGroup,
  fields: { title: string; reason: string; score: number },
  now: Date,
): RecommendationRecord {
  return {
    id: `${kind}:${muscleGroup}`,
    kind,
    ...fields,
    // Muscle-group advice names no exercise (see the module comment).
    exercise: null,
    generatedAt: new Date(now.getTime()),
  };
}

/**
 * Scored advice for one user's recent training, best first (ties by id, so the
 * order is stable). Every reason cites the numbers it rests on.
 */
export function recommend(training: TrainingSnapshot, now: Date): RecommendationRecord[] {
  const windowDays = Math.max(0, Math.round((now.getTime() - training.since.getTime()) / DAY_MS));
  const byGroup = new Map(training.groups.map((g) => [g.muscleGroup, g]));

  const trainedAtAll = training.groups.some((g) => g.sets > 0 || g.lastTrainedAt !== null);
  if (!trainedAtAll) {
    return [
      advice(
        'TRAIN_MUSCLE_GROUP',
        'FULL_BODY',
        {
          title: 'Start with a full-body workout',
          reason: `No training logged in the last ${plural(windowDays, 'day')}: a full-body session works every major group and is an easy way to begin.`,
          score: 1,
        },
        now,
      ),
    ];
  }

  const out: RecommendationRecord[] = [];

  for (const muscleGroup of MAJOR_MUSCLE_GROUPS) {
    // workouts lists all nine groups; a missing one is read as untrained in the window.
    const last = byGroup.get(muscleGroup)?.lastTrainedAt ?? null;
    const label = LABELS[muscleGroup];
    if (last === null) {
      out.push(
        advice(
          'TRAIN_MUSCLE_GROUP',
          muscleGroup,
          {
            title: `Train your ${label}`,
            reason: `Not trained in the last ${plural(windowDays, 'day')}.`,
            // The gap is at least the window; scoring it as the window keeps it above
            // every group that was trained inside it.
            score: staleScore(Math.max(windowDays, STALE_AFTER_DAYS)),
          },
          now,
        ),
      );
      continue;
    }
    // A time in the future (clock skew between services) counts as "just now".
    const days = Math.floor(Math.max(0, now.getTime() - last.getTime()) / DAY_MS);
    if (days >= STALE_AFTER_DAYS) {
      out.push(
        advice(
          'TRAIN_MUSCLE_GROUP',
          muscleGroup,
          {
            title: `Train your ${label}`,
            reason: `Last trained ${plural(days, 'day')} ago.`,
            score: staleScore(days),
          },
          now,
        ),
      );
    }
  }

  for (const g of training.groups) {
    if (!RECOVERY_GROUPS.has(g.muscleGroup) || g.lastTrainedAt === null || g.sets < HEAVY_SETS) continue;
    const elapsedMs = Math.max(0, now.getTime() - g.lastTrainedAt.getTime());
    if (elapsedMs >= RECOVERY_WITHIN_HOURS * HOUR_MS) continue;
    const hours = Math.floor(elapsedMs / HOUR_MS);
    const when = hours === 0 ? 'less than an hour ago' : `${plural(hours, 'hour')} ago`;
    const label = LABELS[g.muscleGroup];
    out.push(
      advice(
        'RECOVERY',
        g.muscleGroup,
        {
          title: `Let your ${label} recover`,
          // The input has window totals only, not the last session's volume: say so
          // rather than claim the last session itself was heavy.
          reason: `${plural(g.sets, 'set')} in the last ${plural(windowDays, 'day')}, the last ${when}. Give it at least a day before training it again.`,
          score: recoveryScore(g.sets),
        },
        now,
      ),
    );
  }

  return out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
