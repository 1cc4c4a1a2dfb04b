import { type Envelope, type EventPayload, NonRetryableError } from '@fitness/events';
import type { MuscleGroup } from '../datasources/models.js';

type EventSet = EventPayload<'workouts.logged', 2>['sets'][number];

/** A workouts.logged / workouts.deleted event as the read model applies it. */
export interface TrainingChange {
  kind: 'logged' | 'deleted';
  eventId: string;
  workoutId: string;
  userId: string;
  startedAt: Date;
  /** Null for a v1 event, which carries totals only: nothing to learn from. */
  sets: EventSet[] | null;
}

/** One exercise within one workout: what progression and similarity read. */
export interface ExerciseSession {
  exerciseId: string;
  muscleGroup: MuscleGroup;
  /** The heaviest weight of the session; null for body-weight or timed work. */
  loadKg: number | null;
  /** Reps of each set at that load, in logged order (sets without reps left out). */
  repsAtLoad: number[];
  sets: number;
  volumeKg: number;
}

/** One workout of a user, reduced to its exercises. */
export interface WorkoutSummary {
  workoutId: string;
  startedAt: Date;
  exercises: ExerciseSession[];
}

/** A user's training as the engine reads it, derived from the recent workouts. */
export interface UserFeatures {
  userId: string;
  /** Per exercise, its sessions newest first. */
  exercises: Map<string, (ExerciseSession & { date: Date; workoutId: string })[]>;
  /** Per muscle group trained within the horizon. */
  muscleGroups: Map<
    MuscleGroup,
    { weeklySets: number; weeklyVolumeKg: number; windowSets: number; lastTrainedAt: Date }
  >;
}

const DAY_MS = 86_400_000;

/** Workouts older than this are not kept as features (the incidence the model learns from stays). */
export const FEATURE_HORIZON_MS = 84 * DAY_MS;

/** The window the muscle-group rules read, as `User.recentTraining` does. */
export const RULES_WINDOW_MS = 28 * DAY_MS;

/** A workout's event as a change; v1 and v2 are both read. */
export function changeFromEvent(event: Envelope): TrainingChange {
  const kind =
    event.type === 'workouts.logged' ? 'logged' : event.type === 'workouts.deleted' ? 'deleted' : null;
  if (!kind || (event.version !== 1 && event.version !== 2)) {
    throw new NonRetryableError(`recommendations cannot read ${event.type} v${event.version}`);
  }
  const p = event.payload as EventPayload<'workouts.logged', 1> & { sets?: EventSet[] };
  return {
    kind,
    eventId: event.id,
    workoutId: p.workoutId,
    userId: p.userId,
    startedAt: new Date(p.startedAt),
    sets: event.version === 2 ? (p.sets ?? []) : null,
  };
}

/** The workout's exercises in first-logged order, each reduced to a session. */
export function summarize(change: Pick<TrainingChange, 'workoutId' | 'startedAt' | 'sets'>): WorkoutSummary {
  const byExercise = new Map<string, ExerciseSession>();
  const weighted = new Map<string, EventSet[]>();
  for (const s of change.sets ?? []) {
    let session = byExercise.get(s.exerciseId);
    if (!session) {
      session = {
        exerciseId: s.exerciseId,
        muscleGroup: s.muscleGroup,
        loadKg: null,
        repsAtLoad: [],
        sets: 0,
        volumeKg: 0,
      };
      byExercise.set(s.exerciseId, session);
      weighted.set(s.exerciseId, []);
    }
    session.sets++;
    session.volumeKg += (s.reps ?? 0) * (s.weightKg ?? 0);
    weighted.get(s.exerciseId)!.push(s);
  }
  for (const session of byExercise.values()) {
    const sets = weighted.get(session.exerciseId)!;
    const top = Math.max(0, ...sets.map((s) => s.weightKg ?? 0));
    session.loadKg = top > 0 ? top : null;
    session.repsAtLoad = sets
      .filter((s) => (s.weightKg ?? 0) === top && s.reps !== null)
      .map((s) => s.reps as number);
    // Exact to the gram so that both adapters and a rebuild sum alike.
    session.volumeKg = Math.round(session.volumeKg * 1000) / 1000;
  }
  return { workoutId: change.workoutId, startedAt: change.startedAt, exercises: [...byExercise.values()] };
}

/** Features from a user's recent workouts, as seen at `now`: pure, so every adapter derives alike. */
export function deriveFeatures(userId: string, workouts: readonly WorkoutSummary[], now: Date): UserFeatures {
  const t = now.getTime();
  const recent = workouts
    .filter((w) => w.startedAt.getTime() >= t - FEATURE_HORIZON_MS)
    .sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.workoutId < b.workoutId ? -1 : 1));
  const features: UserFeatures = { userId, exercises: new Map(), muscleGroups: new Map() };
  for (const w of recent) {
    const age = t - w.startedAt.getTime();
    for (const s of w.exercises) {
      const list = features.exercises.get(s.exerciseId) ?? [];
      list.push({ ...s, date: w.startedAt, workoutId: w.workoutId });
      features.exercises.set(s.exerciseId, list);
      const g = features.muscleGroups.get(s.muscleGroup) ?? {
        weeklySets: 0,
        weeklyVolumeKg: 0,
        windowSets: 0,
        lastTrainedAt: w.startedAt,
      };
      if (age < 7 * DAY_MS) {
        g.weeklySets += s.sets;
        g.weeklyVolumeKg = Math.round((g.weeklyVolumeKg + s.volumeKg) * 1000) / 1000;
      }
      if (age < RULES_WINDOW_MS) g.windowSets += s.sets;
      if (w.startedAt > g.lastTrainedAt) g.lastTrainedAt = w.startedAt;
      features.muscleGroups.set(s.muscleGroup, g);
    }
  }
  return features;
}

/** Compact JSON of a summary, as both adapters store it. */
export function encodeSummary(w: WorkoutSummary): string {
  return JSON.stringify([
    w.startedAt.getTime(),
    w.exercises.map((s) => [s.exerciseId, s.muscleGroup, s.loadKg, s.repsAtLoad, s.sets, s.volumeKg]),
  ]);
}

export function decodeSummary(workoutId: string, text: string): WorkoutSummary {
  const [t, rows] = JSON.parse(text) as [
    number,
    [string, MuscleGroup, number | null, number[], number, number][],
  ];
  return {
    workoutId,
    startedAt: new Date(t),
    exercises: rows.map(([exerciseId, muscleGroup, loadKg, repsAtLoad, sets, volumeKg]) => ({
      exerciseId,
      muscleGroup,
      loadKg,
      repsAtLoad,
      sets,
      volumeKg,
    })),
  };
}

/** The co-occurrence model: users per exercise and per pair of exercises. */
export interface CooccurrenceModel {
  /** Users who have done each exercise. */
  users: Map<string, number>;
  /** Users who have done both, keyed by {@link pairKey}. */
  pairs: Map<string, number>;
  /** Each exercise's muscle group, as the events named it. */
  groups: Map<string, MuscleGroup>;
}

/** One key per unordered pair. */
export const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
