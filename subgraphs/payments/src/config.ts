import { authEnv, checkedTokenSettings } from '@fitness/auth';
import {
  type ConfigChecks,
  optionalUrl,
  parseConfig,
  subgraphEnv,
  subgraphSettings,
  z,
} from '@fitness/server-kit';
import { DEFAULT_PENDING_TIMEOUT_SECONDS } from './datasources/PaymentsStore.js';

const schema = z.object({
  ...subgraphEnv(4003),
  /** Unset: an embedded PGlite database kept in PAYMENTS_DATA_DIR. */
  PAYMENTS_DATABASE_URL: optionalUrl(),
  PAYMENTS_DATA_DIR: z.string().default('.data/payments'),
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
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig('payments', schema, env, derive);
}

/** The rules that span variables, and the configuration the service reads. */
function derive(c: z.output<typeof schema>, checks: ConfigChecks) {
  const production = c.NODE_ENV === 'production';
  if (production && !c.PAYMENT_PROVIDER)
    checks.report('PAYMENT_PROVIDER', 'must be set when NODE_ENV=production (only `sandbox` exists so far)');
  const settings = subgraphSettings(c, checks.report, {
    PAYMENTS_DATABASE_URL: { url: c.PAYMENTS_DATABASE_URL, standIn: 'an embedded PGlite database' },
  });
  return {
    ...settings,
    databaseUrl: c.PAYMENTS_DATABASE_URL,
    dataDir: c.PAYMENTS_DATA_DIR,
    provider: c.PAYMENT_PROVIDER ?? 'sandbox',
    pendingTimeoutSeconds: c.PAYMENTS_PENDING_TIMEOUT_SECONDS,
    tokens: checkedTokenSettings(c, production, checks),
  };
}
