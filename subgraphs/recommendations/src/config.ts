import { authEnv, checkedTokenSettings } from '@fitness/auth';
import {
  type ConfigChecks,
  logFormat,
  logLevel,
  nodeEnv,
  optionalUrl,
  parseConfig,
  port,
  routerSecretEnv,
  routerSecretFrom,
  z,
} from '@fitness/server-kit';
import { DEFAULT_CACHE_TTL_SECONDS } from './datasources/RecommendationCache.js';

const schema = z.object({
  NODE_ENV: nodeEnv(),
  HOST: z.string().default('127.0.0.1'),
  PORT: port(4004),
  LOG_LEVEL: logLevel(),
  LOG_FORMAT: logFormat(),
  /**
   * Unset: an in-process cache, allowed in production too: advice is keyed by the
   * training it was computed from, so each replica's own cache is still right.
   */
  REDIS_URL: optionalUrl(),
  /**
   * NATS JetStream, where workouts' events arrive. Unset: an in-process bus that
   * hears no other service, so the features stay empty and advice comes from the
   * training the router sends (single-instance mode).
   */
  NATS_URL: optionalUrl(),
  /** `ipc`: without NATS, the launcher's event hub (set by `pnpm start`, not by hand). */
  EVENT_HUB: z.enum(['ipc']).optional(),
  /** How long computed advice is reused for unchanged training. */
  RECOMMENDATIONS_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_CACHE_TTL_SECONDS),
  ...routerSecretEnv,
  ...authEnv,
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig('recommendations', schema, env, derive);
}

/** The rules that span variables, and the configuration the service reads. */
function derive(c: z.output<typeof schema>, checks: ConfigChecks) {
  const production = c.NODE_ENV === 'production';
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    redisUrl: c.REDIS_URL,
    natsUrl: c.NATS_URL,
    eventHub: c.EVENT_HUB,
    cacheTtlSeconds: c.RECOMMENDATIONS_CACHE_TTL_SECONDS,
    routerSecret: routerSecretFrom(c, production, checks.report),
    tokens: checkedTokenSettings(c, production, checks),
  };
}
