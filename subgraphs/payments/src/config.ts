import { authEnv, checkedTokenSettings } from '@fitness/auth';
import { optionalUrl, subgraphConfig, z } from '@fitness/server-kit';
import { DEFAULT_PENDING_TIMEOUT_SECONDS } from './datasources/PaymentsStore.js';

/** The only reader of process.env in this package. */
export const loadConfig = subgraphConfig('payments', {
  port: 4003,
  env: {
    /** Unset: an embedded PGlite database kept in PAYMENTS_DATA_DIR. */
    PAYMENTS_DATABASE_URL: optionalUrl(),
    PAYMENTS_DATA_DIR: z.string().default('.data/payments'),
    /** The token revocation list shared with every service; unset: in process (single-instance mode). */
    REDIS_URL: optionalUrl(),
    /**
     * The card processor. Only the sandbox exists so far: production must name it
     * explicitly, so that a deployment never takes free "payments" by accident.
     */
    PAYMENT_PROVIDER: z.enum(['sandbox']).optional(),
    /**
     * A PENDING attempt older than this (its request died, or its client lost the key)
     * no longer blocks the user: it is settled with the provider. Far above any real
     * request's duration; at most 12 hours, well inside the 24 hours a provider
     * remembers an idempotency key.
     */
    PAYMENTS_PENDING_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(43_200)
      .default(DEFAULT_PENDING_TIMEOUT_SECONDS),
    ...authEnv,
  },
  check(c, production, report) {
    if (production && !c.PAYMENT_PROVIDER)
      report('PAYMENT_PROVIDER', 'must be set when NODE_ENV=production (only `sandbox` exists so far)');
  },
  embeddedStores: (c) => ({
    PAYMENTS_DATABASE_URL: { url: c.PAYMENTS_DATABASE_URL, standIn: 'an embedded PGlite database' },
    REDIS_URL: { url: c.REDIS_URL, standIn: 'token revocations known to this process only' },
  }),
  build: (c, settings, checks) => ({
    databaseUrl: c.PAYMENTS_DATABASE_URL,
    dataDir: c.PAYMENTS_DATA_DIR,
    redisUrl: c.REDIS_URL,
    provider: c.PAYMENT_PROVIDER ?? 'sandbox',
    pendingTimeoutSeconds: c.PAYMENTS_PENDING_TIMEOUT_SECONDS,
    tokens: checkedTokenSettings(c, settings.production, checks),
  }),
});

export type Config = ReturnType<typeof loadConfig>;
