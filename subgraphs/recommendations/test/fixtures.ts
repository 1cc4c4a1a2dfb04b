import type { MuscleGroup, RecentTrainingInput } from '../src/datasources/models.js';

export const NOW = new Date('2026-11-26T12:00:00.000Z');

const HOUR_MS = 3_600_000;
const ALL_GROUPS: MuscleGroup[] = [
  'CHEST',
  'BACK',
  'SHOULDERS',
  'ARMS',
  'CORE',
  'LEGS',
  'GLUTES',
  'FULL_BODY',
  'CARDIO',
];

/**
 * `recentTraining` as workouts sends it (all nine groups, ISO strings), 28 days
 * back from `now`: groups not listed are untrained in the window.
 */
export function training(
  trained: Partial<Record<MuscleGroup, { sets: number; hoursAgo: number }>>,
  now: Date = NOW,
): RecentTrainingInput {
  return {
    since: new Date(now.getTime() - 28 * 24 * HOUR_MS).toISOString(),
    muscleGroups: ALL_GROUPS.map((muscleGroup) => {
      const t = trained[muscleGroup];
      return {
        muscleGroup,
        sets: t?.sets ?? 0,
        lastTrainedAt: t ? new Date(now.getTime() - t.hoursAgo * HOUR_MS).toISOString() : null,
      };
    }),
  };
}

/** Every major group trained yesterday: nothing stale, nothing heavy. */
export const balanced = () =>
  training({
    CHEST: { sets: 8, hoursAgo: 30 },
    BACK: { sets: 8, hoursAgo: 30 },
    SHOULDERS: { sets: 6, hoursAgo: 30 },
    ARMS: { sets: 6, hoursAgo: 30 },
    CORE: { sets: 4, hoursAgo: 30 },
    LEGS: { sets: 10, hoursAgo: 30 },
    GLUTES: { sets: 4, hoursAgo: 30 },
  });
