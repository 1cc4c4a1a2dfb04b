import { authEnv, tokenSettingsFrom } from '@fitness/auth';
import { logFormat, logLevel, nodeEnv, optionalUrl, parseConfig, port, z } from '@fitness/server-kit';
import { DEFAULT_CACHE_TTL_SECONDS } from './datasources/RecommendationCache.js';

const schema = z.object({
  NODE_ENV: nodeEnv(),
  HOST: z.string().default('127.0.0.1'),
  PORT: port(4004),
  LOG_LEVEL: logLevel(),
  LOG_FORMAT: logFormat(),
  /** Unset: an in-process cache (single-instance mode). */
  REDIS_URL: optionalUrl(),
  /** How long computed advice is reused for unchanged training. */
  RECOMMENDATIONS_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_CACHE_TTL_SECONDS),
  ...authEnv,
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseConfig('recommendations', schema, env);
  const production = c.NODE_ENV === 'production';
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    redisUrl: c.REDIS_URL,
    cacheTtlSeconds: c.RECOMMENDATIONS_CACHE_TTL_SECONDS,
    tokens: tokenSettingsFrom(c, production),
  };
}
