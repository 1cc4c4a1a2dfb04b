import { authEnv, checkedTokenSettings } from '@fitness/auth';
import { optionalUrl, REGIONS, subgraphConfig, z } from '@fitness/server-kit';

/** The only reader of process.env in this package. */
export const loadConfig = subgraphConfig('users', {
  port: 4001,
  env: {
    /** Unset: an embedded mongod when one can be obtained, else the in-process store. */
    MONGODB_URL: optionalUrl(),
    /**
     * Where the in-process fallback store (no MongoDB) keeps its snapshot between runs;
     * `memory://` keeps nothing.
     */
    USERS_DATA_DIR: z.string().default('.data/users'),
    /** The region of a sign-up that names none. */
    DEFAULT_REGION: z.enum(REGIONS).default('EU'),
    /** Lifetime of the tokens signUp and signIn issue. @default 604800 (7 days) */
    JWT_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(3600 * 24 * 7),
    /** Shared sign-in throttling counters; unset: in process (single-instance mode). */
    REDIS_URL: optionalUrl(),
    /** Failed sign-ins allowed per account (normalized email) per window. */
    SIGNIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(5),
    /** Failed sign-ins allowed per client address per window. */
    SIGNIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
    /** The throttling window, in seconds. @default 900 (15 minutes) */
    SIGNIN_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
    /**
     * Sign-ups (each one scrypt with 32 MiB) allowed per client address per window.
     * Room for a household, an office or a carrier NAT, none for a flood.
     */
    SIGNUP_MAX_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
    /** The sign-up window, in seconds. @default 900 (15 minutes) */
    SIGNUP_THROTTLE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
    ...authEnv,
  },
  embeddedStores: (c) => ({
    MONGODB_URL: { url: c.MONGODB_URL, standIn: 'an embedded mongod or the in-process users store' },
    REDIS_URL: { url: c.REDIS_URL, standIn: 'throttling counters per process, not shared by replicas' },
  }),
  build: (c, settings, checks) => ({
    mongodbUrl: c.MONGODB_URL,
    dataDir: c.USERS_DATA_DIR,
    defaultRegion: c.DEFAULT_REGION,
    redisUrl: c.REDIS_URL,
    signInThrottle: {
      maxFailuresPerAccount: c.SIGNIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerAddress: c.SIGNIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: c.SIGNIN_THROTTLE_WINDOW_SECONDS,
    },
    signUpThrottle: {
      maxPerAddress: c.SIGNUP_MAX_PER_ADDRESS,
      windowSeconds: c.SIGNUP_THROTTLE_WINDOW_SECONDS,
    },
    // users issues the tokens: it alone may hold JWT_PRIVATE_KEY.
    tokens: {
      ...checkedTokenSettings(c, settings.production, checks, 'issuer'),
      ttlSeconds: c.JWT_TTL_SECONDS,
    },
  }),
});

export type Config = ReturnType<typeof loadConfig>;
