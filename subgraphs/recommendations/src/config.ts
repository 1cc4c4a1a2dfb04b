import { authEnv, checkedTokenSettings } from '@fitness/auth';
import { optionalUrl, subgraphConfig, z } from '@fitness/server-kit';
import { DEFAULT_CACHE_TTL_SECONDS } from './datasources/RecommendationCache.js';

/**
 * The only reader of process.env in this package. NATS_URL is where workouts' events
 * arrive (under `pnpm start` without it, the launcher's event hub); with neither, an
 * in-process bus hears no other service, so the features stay empty and advice comes
 * from the training the router sends (single-instance mode).
 */
export const loadConfig = subgraphConfig('recommendations', {
  port: 4004,
  env: {
    /**
     * Unset: an in-process cache, allowed in production too: advice is keyed by the
     * training it was computed from, so each replica's own cache is still right.
     */
    REDIS_URL: optionalUrl(),
    /** How long computed advice is reused for unchanged training. */
    RECOMMENDATIONS_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(DEFAULT_CACHE_TTL_SECONDS),
    ...authEnv,
  },
  // Nothing is refused in production: every stand-in here serves correct advice.
  build: (c, settings, checks) => ({
    redisUrl: c.REDIS_URL,
    cacheTtlSeconds: c.RECOMMENDATIONS_CACHE_TTL_SECONDS,
    tokens: checkedTokenSettings(c, settings.production, checks),
  }),
});

export type Config = ReturnType<typeof loadConfig>;
