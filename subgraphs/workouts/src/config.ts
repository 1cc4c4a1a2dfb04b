import { authEnv, tokenSettingsFrom } from '@fitness/auth';
import { logLevel, nodeEnv, optionalUrl, parseConfig, port, z } from '@fitness/server-kit';

const schema = z.object({
  NODE_ENV: nodeEnv(),
  HOST: z.string().default('127.0.0.1'),
  PORT: port(4002),
  LOG_LEVEL: logLevel(),
  /** Unset: an embedded PGlite database with TimescaleDB, kept in WORKOUTS_DATA_DIR. */
  WORKOUTS_DATABASE_URL: optionalUrl(),
  WORKOUTS_DATA_DIR: z.string().default('.data/workouts'),
  ...authEnv,
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseConfig('workouts', schema, env);
  const production = c.NODE_ENV === 'production';
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    databaseUrl: c.WORKOUTS_DATABASE_URL,
    dataDir: c.WORKOUTS_DATA_DIR,
    tokens: tokenSettingsFrom(c, production),
  };
}
