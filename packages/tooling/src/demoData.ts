import { createHash } from 'node:crypto';

/** Demo accounts created by `pnpm start`; all share one password. */
export const DEMO_PASSWORD = 'demo-password-1';
export const DEMO_USERS = [
  { handle: 'alex', displayName: 'Alex Runner', region: 'EU' },
  { handle: 'sam', displayName: 'Sam Lifts', region: 'US' },
  { handle: 'kim', displayName: 'Kim Rides', region: 'APAC' },
  { handle: 'jordan', displayName: 'Jordan Rows', region: 'EU' },
  { handle: 'riley', displayName: 'Riley Moves', region: 'US' },
] as const;

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function call<T>(
  url: string,
  query: string,
  variables: object,
  token?: string,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** A UUID derived from a name, so that a re-run logs the same workouts (logWorkout is idempotent on id). */
function stableUuid(name: string): string {
  const h = createHash('sha1').update(`fitness-demo:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Signs the demo user up, or in when the account exists from an earlier run. Sign-up
 * comes first: a first run then logs no failed sign-ins, and a later run's CONFLICT
 * is an ordinary answer, not a warning.
 */
async function signUpOrIn(
  url: string,
  user: (typeof DEMO_USERS)[number],
): Promise<{ token: string; userId: string }> {
  const email = `${user.handle}@demo.fitness.test`;
  const signUp = await call<{ signUp: { token: string; user: { id: string } } }>(
    url,
    'mutation ($input: SignUpInput!) { signUp(input: $input) { token user { id } } }',
    {
      input: {
        email,
        password: DEMO_PASSWORD,
        handle: user.handle,
        displayName: user.displayName,
        region: user.region,
      },
    },
  );
  if (signUp.data?.signUp) return { token: signUp.data.signUp.token, userId: signUp.data.signUp.user.id };
  // CONFLICT: created by an earlier run. RATE_LIMITED: several runs in a row from one
  // address (sign-up is throttled); the accounts exist, so sign in.
  const code = signUp.errors?.[0]?.extensions?.code;
  if (code !== 'CONFLICT' && code !== 'RATE_LIMITED')
    throw new Error(`could not create demo user ${user.handle}: ${signUp.errors?.[0]?.message}`);
  const signIn = await call<{ signIn: { token: string; user: { id: string } } }>(
    url,
    'mutation ($input: SignInInput!) { signIn(input: $input) { token user { id } } }',
    { input: { email, password: DEMO_PASSWORD } },
  );
  if (!signIn.data?.signIn)
    throw new Error(`could not sign in demo user ${user.handle}: ${signIn.errors?.[0]?.message}`);
  return { token: signIn.data.signIn.token, userId: signIn.data.signIn.user.id };
}

const LOG_WORKOUT = 'mutation ($input: LogWorkoutInput!) { logWorkout(input: $input) { id } }';

/**
 * Creates the demo users and a week of workouts through the router, the way an app
 * would. Safe to run again: users sign in, workouts keep their ids per account and calendar day.
 */
export async function seedDemoData(
  routerUrl: string,
  now = new Date(),
): Promise<{ users: number; workouts: number }> {
  const catalogue = await call<{ exercises: { id: string; muscleGroup: string }[] }>(
    routerUrl,
    '{ exercises { id muscleGroup } }',
    {},
  );
  const exercises = catalogue.data?.exercises ?? [];
  const pick = (group: string, n: number) => exercises.filter((e) => e.muscleGroup === group).slice(0, n);
  const strengthDays = [
    [...pick('CHEST', 2), ...pick('ARMS', 1)],
    [...pick('LEGS', 2), ...pick('GLUTES', 1)],
    [...pick('BACK', 2), ...pick('SHOULDERS', 1)],
  ];
  let workouts = 0;
  for (const [u, user] of DEMO_USERS.entries()) {
    // Ids derive from the account id: an in-process users store starts empty on every
    // run, and its new accounts must not collide with workouts kept from the last one.
    const { token, userId } = await signUpOrIn(routerUrl, user);
    for (let daysAgo = 6; daysAgo >= 0; daysAgo -= 1) {
      if ((daysAgo + u) % 4 === 3) continue; // a rest day
      const day = new Date(
        Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - daysAgo, 6 + u),
      );
      if (day.getTime() > now.getTime()) continue;
      const date = day.toISOString().slice(0, 10);
      const strength = (daysAgo + u) % 2 === 0 && exercises.length > 0;
      const plan = strengthDays[(daysAgo + u) % strengthDays.length] ?? [];
      const input = strength
        ? {
            id: stableUuid(`${userId}:${date}`),
            sport: 'STRENGTH',
            title: 'Strength session',
            startedAt: day.toISOString(),
            durationSec: 2700 + u * 300,
            calories: 320 + u * 20,
            sets: plan.flatMap((exercise) =>
              [0, 1, 2].map((s) => ({
                exerciseId: exercise.id,
                reps: 8 + s,
                weightKg: 40 + u * 5 + s * 2.5,
              })),
            ),
          }
        : {
            id: stableUuid(`${userId}:${date}`),
            sport: ['RUN', 'RIDE', 'ROW', 'WALK', 'SWIM'][u] ?? 'RUN',
            title: 'Endurance',
            startedAt: day.toISOString(),
            durationSec: 1800 + daysAgo * 120,
            distanceM: 5000 + daysAgo * 400 + u * 1000,
            calories: 280 + daysAgo * 15,
          };
      const logged = await call(routerUrl, LOG_WORKOUT, { input }, token);
      if (logged.errors?.length)
        throw new Error(`could not log a demo workout: ${logged.errors[0]?.message}`);
      workouts += 1;
    }
  }
  return { users: DEMO_USERS.length, workouts };
}
