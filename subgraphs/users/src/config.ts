import { authEnv, tokenSettingsFrom } from '@fitness/auth';
import { logLevel, nodeEnv, optionalUrl, parseConfig, port, z } from '@fitness/server-kit';
import { REGIONS } from './datasources/models.js';

const schema = z.object({
  NODE_ENV: nodeEnv(),
  HOST: z.string().default('127.0.0.1'),
  PORT: port(4001),
  LOG_LEVEL: logLevel(),
  /** Unset: an embedded mongod when one can be obtained, else the in-process store. */
  MONGODB_URL: optionalUrl(),
  /** The region of a sign-up that names none. */
  DEFAULT_REGION: z.enum(REGIONS).default('EU'),
  /** Lifetime of the tokens signUp and signIn issue. @default 604800 (7 days) */
  JWT_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(3600 * 24 * 7),
  ...authEnv,
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseConfig('users', schema, env);
  const production = c.NODE_ENV === 'production';
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    mongodbUrl: c.MONGODB_URL,
    defaultRegion: c.DEFAULT_REGION,
    tokens: { ...tokenSettingsFrom(c, production), ttlSeconds: c.JWT_TTL_SECONDS },
  };
}
