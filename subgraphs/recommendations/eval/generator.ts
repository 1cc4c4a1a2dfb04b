import { seededRandom } from '@fitness/testing';
import type { MuscleGroup } from '../src/datasources/models.js';
import type { TrainingChange } from '../src/features/model.js';

/**
 * A generator of training histories for the offline evaluation, deterministic for
 * a seed. What it models, and why each part matters to the evaluation:
 *
 * - **Programmes and splits.** Each user follows one of nine programmes (push/pull/
 *   legs, upper/lower, beginner full body, powerlifting, a body-part "bro" split,
 *   calisthenics, runner plus strength, conditioning, glute focus), chosen with
 *   realistic weights. A programme is a rotation of day templates; a day is a list
 *   of slots; a slot lists interchangeable exercises for one job (e.g. "horizontal
 *   press": barbell bench, dumbbell incline, push-up), the first the most common.
 *   This is the structure collaborative filtering must discover: who does one
 *   exercise of a programme does its siblings, whatever their global popularity.
 * - **Choices and rotation.** A user picks one exercise per slot, then every block
 *   of 4 to 8 weeks swaps each slot with probability 25% for another of its
 *   exercises (the usual exercise rotation). 8% of users also keep one favourite
 *   from outside their programme (noise). The swaps are what the held-out last
 *   sessions contain that the user has not done before.
 * - **Frequency.** 2 to 5 sessions a week, each on a random day at 06:00-21:00,
 *   for 10 to 24 weeks ending at `end`; 5% of sessions are skipped.
 * - **Progression.** Double progression: every exercise starts at a load from the
 *   user's strength level, 3 to 4 sets; reps grow by one per session with a 75%
 *   chance (a failed last set otherwise) from the bottom to the top of the range
 *   (5 for strength programmes, 8-12 otherwise), then the load rises by 2.5 kg
 *   (5 kg for legs) and reps start again at the bottom. Body-weight exercises carry
 *   no load; cardio carries duration and distance.
 */

type Slot = readonly string[];
type Day = readonly Slot[];
interface Programme {
  name: string;
  weight: number;
  strength: boolean;
  days: readonly Day[];
}

const GROUPS: Record<MuscleGroup, readonly string[]> = {
  CHEST: [
    'barbell-bench-press',
    'incline-dumbbell-press',
    'dumbbell-fly',
    'push-up',
    'cable-crossover',
    'chest-dip',
    'decline-bench-press',
  ],
  BACK: [
    'pull-up',
    'chin-up',
    'barbell-row',
    'lat-pulldown',
    'seated-cable-row',
    'single-arm-dumbbell-row',
    't-bar-row',
  ],
  SHOULDERS: [
    'overhead-press',
    'seated-dumbbell-press',
    'lateral-raise',
    'front-raise',
    'rear-delt-fly',
    'face-pull',
    'arnold-press',
  ],
  ARMS: [
    'barbell-curl',
    'hammer-curl',
    'preacher-curl',
    'triceps-pushdown',
    'skull-crusher',
    'overhead-triceps-extension',
    'close-grip-bench-press',
  ],
  CORE: [
    'plank',
    'side-plank',
    'hanging-leg-raise',
    'cable-crunch',
    'russian-twist',
    'ab-wheel-rollout',
    'dead-bug',
  ],
  LEGS: [
    'barbell-back-squat',
    'front-squat',
    'leg-press',
    'walking-lunge',
    'leg-extension',
    'lying-leg-curl',
    'standing-calf-raise',
    'bulgarian-split-squat',
  ],
  GLUTES: [
    'hip-thrust',
    'glute-bridge',
    'romanian-deadlift',
    'cable-kickback',
    'sumo-deadlift',
    'step-up',
    'hip-abduction',
  ],
  FULL_BODY: [
    'deadlift',
    'power-clean',
    'kettlebell-swing',
    'thruster',
    'burpee',
    'turkish-get-up',
    'farmers-carry',
    'snatch',
  ],
  CARDIO: [
    'treadmill-run',
    'outdoor-run',
    'stationary-bike',
    'rowing-machine',
    'jump-rope',
    'stair-climber',
    'elliptical',
    'freestyle-swim',
  ],
};

/** The catalogue of workouts' migration 001, by muscle group: the eval's own copy. */
export const CATALOGUE = new Map<string, MuscleGroup>(
  (Object.entries(GROUPS) as [MuscleGroup, readonly string[]][]).flatMap(([g, ids]) =>
    ids.map((id) => [id, g] as const),
  ),
);

const s = (...ids: string[]): Slot => ids;

const PROGRAMMES: readonly Programme[] = [
  {
    name: 'push/pull/legs',
    weight: 20,
    strength: false,
    days: [
      [
        s('barbell-bench-press', 'incline-dumbbell-press', 'decline-bench-press'),
        s('seated-dumbbell-press', 'overhead-press', 'arnold-press'),
        s('cable-crossover', 'dumbbell-fly', 'chest-dip'),
        s('lateral-raise', 'front-raise'),
        s('triceps-pushdown', 'overhead-triceps-extension', 'skull-crusher'),
      ],
      [
        s('lat-pulldown', 'pull-up', 'chin-up'),
        s('seated-cable-row', 'barbell-row', 't-bar-row'),
        s('face-pull', 'rear-delt-fly'),
        s('barbell-curl', 'hammer-curl', 'preacher-curl'),
      ],
      [
        s('barbell-back-squat', 'leg-press', 'front-squat'),
        s('romanian-deadlift', 'lying-leg-curl'),
        s('leg-extension', 'bulgarian-split-squat', 'walking-lunge'),
        s('standing-calf-raise'),
        s('cable-crunch', 'hanging-leg-raise'),
      ],
    ],
  },
  {
    name: 'upper/lower',
    weight: 15,
    strength: false,
    days: [
      [
        s('barbell-bench-press', 'incline-dumbbell-press'),
        s('barbell-row', 'single-arm-dumbbell-row', 'seated-cable-row'),
        s('overhead-press', 'seated-dumbbell-press'),
        s('lat-pulldown', 'pull-up'),
        s('hammer-curl', 'barbell-curl'),
        s('triceps-pushdown', 'skull-crusher'),
      ],
      [
        s('barbell-back-squat', 'front-squat'),
        s('romanian-deadlift', 'deadlift'),
        s('leg-press', 'bulgarian-split-squat'),
        s('lying-leg-curl'),
        s('standing-calf-raise'),
        s('plank', 'ab-wheel-rollout'),
      ],
    ],
  },
  {
    name: 'beginner full body',
    weight: 18,
    strength: false,
    days: [
      [
        s('leg-press', 'barbell-back-squat', 'walking-lunge'),
        s('push-up', 'barbell-bench-press', 'incline-dumbbell-press'),
        s('lat-pulldown', 'seated-cable-row'),
        s('plank', 'dead-bug'),
        s('treadmill-run', 'elliptical', 'stationary-bike'),
      ],
      [
        s('glute-bridge', 'hip-thrust', 'romanian-deadlift'),
        s('seated-dumbbell-press', 'lateral-raise'),
        s('single-arm-dumbbell-row', 'seated-cable-row'),
        s('side-plank', 'russian-twist'),
        s('stationary-bike', 'rowing-machine'),
      ],
    ],
  },
  {
    name: 'powerlifting',
    weight: 8,
    strength: true,
    days: [
      [
        s('barbell-back-squat'),
        s('barbell-bench-press'),
        s('barbell-row', 't-bar-row'),
        s('front-squat', 'bulgarian-split-squat'),
      ],
      [
        s('deadlift'),
        s('overhead-press'),
        s('close-grip-bench-press', 'chest-dip'),
        s('romanian-deadlift', 'sumo-deadlift'),
      ],
      [
        s('barbell-bench-press'),
        s('barbell-back-squat'),
        s('pull-up', 'chin-up'),
        s('ab-wheel-rollout', 'hanging-leg-raise'),
      ],
    ],
  },
  {
    name: 'bro split',
    weight: 10,
    strength: false,
    days: [
      [
        s('barbell-bench-press', 'decline-bench-press'),
        s('incline-dumbbell-press'),
        s('dumbbell-fly', 'cable-crossover'),
        s('chest-dip', 'push-up'),
      ],
      [
        s('lat-pulldown', 'pull-up'),
        s('t-bar-row', 'barbell-row'),
        s('single-arm-dumbbell-row', 'seated-cable-row'),
      ],
      [
        s('arnold-press', 'overhead-press'),
        s('lateral-raise'),
        s('front-raise', 'rear-delt-fly'),
        s('face-pull'),
      ],
      [
        s('barbell-curl', 'preacher-curl'),
        s('hammer-curl'),
        s('skull-crusher', 'overhead-triceps-extension'),
        s('triceps-pushdown'),
      ],
      [
        s('leg-press', 'barbell-back-squat'),
        s('leg-extension'),
        s('lying-leg-curl'),
        s('standing-calf-raise'),
      ],
    ],
  },
  {
    name: 'calisthenics',
    weight: 8,
    strength: false,
    days: [
      [
        s('pull-up', 'chin-up'),
        s('push-up', 'chest-dip'),
        s('hanging-leg-raise', 'ab-wheel-rollout'),
        s('walking-lunge', 'bulgarian-split-squat', 'step-up'),
      ],
      [
        s('chin-up', 'pull-up'),
        s('chest-dip', 'push-up'),
        s('plank', 'side-plank', 'dead-bug'),
        s('burpee', 'jump-rope'),
      ],
    ],
  },
  {
    name: 'runner plus strength',
    weight: 9,
    strength: false,
    days: [
      [s('outdoor-run', 'treadmill-run')],
      [
        s('walking-lunge', 'bulgarian-split-squat', 'step-up'),
        s('glute-bridge', 'hip-thrust'),
        s('standing-calf-raise'),
        s('plank', 'side-plank', 'dead-bug'),
      ],
      [s('outdoor-run', 'treadmill-run', 'stationary-bike'), s('freestyle-swim', 'elliptical')],
    ],
  },
  {
    name: 'conditioning',
    weight: 7,
    strength: false,
    days: [
      [
        s('thruster', 'power-clean'),
        s('kettlebell-swing'),
        s('burpee', 'jump-rope'),
        s('rowing-machine', 'stair-climber'),
      ],
      [
        s('snatch', 'power-clean'),
        s('farmers-carry', 'turkish-get-up'),
        s('pull-up', 'chin-up'),
        s('russian-twist', 'ab-wheel-rollout'),
      ],
    ],
  },
  {
    name: 'glute focus',
    weight: 9,
    strength: false,
    days: [
      [
        s('hip-thrust'),
        s('romanian-deadlift', 'sumo-deadlift'),
        s('bulgarian-split-squat', 'step-up'),
        s('cable-kickback', 'hip-abduction'),
      ],
      [
        s('glute-bridge', 'hip-thrust'),
        s('leg-press', 'barbell-back-squat'),
        s('lying-leg-curl'),
        s('hip-abduction', 'cable-kickback'),
        s('stair-climber', 'elliptical'),
      ],
    ],
  },
];

const pickWeighted = <T>(random: () => number, items: readonly T[], weight: (t: T) => number): T => {
  let r = random() * items.reduce((sum, t) => sum + weight(t), 0);
  for (const t of items) {
    r -= weight(t);
    if (r <= 0) return t;
  }
  return items[items.length - 1]!;
};

/** The first exercise of a slot is the most common choice: weights 3, 2, 1, ... */
const pickInSlot = (random: () => number, slot: Slot, not?: string) => {
  const options = slot.filter((e) => e !== not);
  if (options.length === 0) return slot[0]!;
  return pickWeighted(random, options, (e) => Math.max(1, 3 - slot.indexOf(e)));
};

const LOWER: ReadonlySet<MuscleGroup> = new Set<MuscleGroup>(['LEGS', 'GLUTES', 'FULL_BODY']);
const BODY_WEIGHT = new Set([
  'push-up',
  'pull-up',
  'chin-up',
  'chest-dip',
  'plank',
  'side-plank',
  'hanging-leg-raise',
  'dead-bug',
  'burpee',
  'russian-twist',
  'ab-wheel-rollout',
]);

export interface GeneratedUser {
  userId: string;
  programme: string;
  /** The user's workouts, oldest first. */
  workouts: TrainingChange[];
}

/** `users` training histories ending before `end`. */
export function generateHistories(options: { users: number; seed: number; end: Date }): GeneratedUser[] {
  const random = seededRandom(options.seed);
  const out: GeneratedUser[] = [];
  let serial = 0;
  const DAY = 86_400_000;
  for (let u = 0; u < options.users; u++) {
    const programme = pickWeighted(random, PROGRAMMES, (p) => p.weight);
    const userId = `eval-user-${u}`;
    const strength = 0.6 + random() * 0.9;
    const choice = programme.days.map((day) => day.map((slot) => pickInSlot(random, slot)));
    const favourite = random() < 0.08 ? [...CATALOGUE.keys()][Math.floor(random() * CATALOGUE.size)]! : null;
    const perWeek = 2 + Math.floor(random() * 4);
    const weeks = 10 + Math.floor(random() * 15);
    const start = options.end.getTime() - weeks * 7 * DAY;
    const progress = new Map<string, { load: number; reps: number }>();
    const [bottom, top] = programme.strength ? [3, 5] : [8, 12];
    let nextSwap = 4 + Math.floor(random() * 5);
    let dayIndex = 0;
    const workouts: TrainingChange[] = [];
    for (let week = 0; week < weeks; week++) {
      if (week === nextSwap) {
        for (const [d, day] of programme.days.entries()) {
          for (const [i, slot] of day.entries()) {
            if (slot.length > 1 && random() < 0.25) choice[d]![i] = pickInSlot(random, slot, choice[d]![i]);
          }
        }
        nextSwap = week + 4 + Math.floor(random() * 5);
      }
      const days = [...new Set(Array.from({ length: perWeek }, () => Math.floor(random() * 7)))].sort();
      for (const weekday of days) {
        if (random() < 0.05) continue;
        const startedAt = new Date(start + (week * 7 + weekday) * DAY + (6 + random() * 15) * 3_600_000);
        if (startedAt >= options.end) continue;
        const exercises = [...choice[dayIndex % programme.days.length]!];
        dayIndex++;
        if (favourite && random() < 0.5 && !exercises.includes(favourite)) exercises.push(favourite);
        const sets: NonNullable<TrainingChange['sets']> = [];
        for (const exerciseId of exercises) {
          const muscleGroup = CATALOGUE.get(exerciseId)!;
          if (muscleGroup === 'CARDIO') {
            sets.push({
              exerciseId,
              muscleGroup,
              reps: null,
              weightKg: null,
              durationSec: 1200 + Math.floor(random() * 2400),
              distanceM: Math.round(3000 + random() * 7000),
            });
            continue;
          }
          const p = progress.get(exerciseId) ?? {
            load: Math.round(((LOWER.has(muscleGroup) ? 60 : 30) * strength) / 2.5) * 2.5,
            reps: bottom,
          };
          const load = BODY_WEIGHT.has(exerciseId) ? null : p.load;
          const setCount = 3 + (random() < 0.4 ? 1 : 0);
          const completed = random() < 0.75;
          for (let i = 0; i < setCount; i++) {
            const reps = !completed && i === setCount - 1 ? Math.max(1, p.reps - 2) : p.reps;
            sets.push({ exerciseId, muscleGroup, reps, weightKg: load, durationSec: null, distanceM: null });
          }
          if (completed) {
            if (p.reps >= top)
              progress.set(exerciseId, { load: p.load + (LOWER.has(muscleGroup) ? 5 : 2.5), reps: bottom });
            else progress.set(exerciseId, { load: p.load, reps: p.reps + 1 });
          } else progress.set(exerciseId, p);
        }
        serial++;
        const id = `00000000-0000-4000-8000-${serial.toString(16).padStart(12, '0')}`;
        workouts.push({ kind: 'logged', eventId: id, workoutId: id, userId, startedAt, sets });
      }
    }
    out.push({ userId, programme: programme.name, workouts });
  }
  return out;
}
