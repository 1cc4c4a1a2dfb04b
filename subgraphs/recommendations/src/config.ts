import { authEnv, checkedTokenSettings } from '@fitness/auth';
import {
  type ConfigChecks,
  optionalUrl,
  parseConfig,
  subgraphEnv,
  subgraphSettings,
  z,
} from '@fitness/server-kit';
import { DEFAULT_CACHE_TTL_SECONDS } from './datasources/RecommendationCache.js';

// NATS_URL is where workouts' events arrive. Unset: an in-process bus that hears no
// other service, so the features stay empty and advice comes from the training the
// router sends (single-instance mode).
const schema = z.object({
  ...subgraphEnv(4004),
  /**
   * Unset: an in-process cache, allowed in production too: advice is keyed by the
   * training it was computed from, so each replica's own cache is still right.
   */
  REDIS_URL: optionalUrl(),
  /** How long computed advice is reused for unchanged training. */
  RECOMMENDATIONS_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_CACHE_TTL_SECONDS),
  ...authEnv,
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig('recommendations', schema, env, derive);
}

/** The rules that span variables, and the configuration the service reads. */
function derive(c: z.output<typeof schema>, checks: ConfigChecks) {
  // Nothing is refused in production: every stand-in here serves correct advice.
  const settings = subgraphSettings(c, checks.report);
  return {
    ...settings,
    redisUrl: c.REDIS_URL,
    cacheTtlSeconds: c.RECOMMENDATIONS_CACHE_TTL_SECONDS,
    tokens: checkedTokenSettings(c, settings.production, checks),
  };
}
