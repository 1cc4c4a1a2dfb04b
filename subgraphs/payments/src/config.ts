import { authEnv, checkedTokenSettings } from '@fitness/auth';
import {
  allowEmbeddedStores,
  type ConfigChecks,
  logFormat,
  logLevel,
  nodeEnv,
  optionalUrl,
  parseConfig,
  port,
  refuseEmbeddedStores,
  routerSecretEnv,
  routerSecretFrom,
  z,
} from '@fitness/server-kit';
import { DEFAULT_PENDING_TIMEOUT_SECONDS } from './datasources/PaymentsStore.js';

const schema = z.object({
  NODE_ENV: nodeEnv(),
  HOST: z.string().default('127.0.0.1'),
  PORT: port(4003),
  LOG_LEVEL: logLevel(),
  LOG_FORMAT: logFormat(),
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
  /** NATS JetStream for domain events; unset: the in-process bus (single-instance mode). */
  NATS_URL: optionalUrl(),
  /** `ipc`: without NATS, the launcher's event hub (set by `pnpm start`, not by hand). */
  EVENT_HUB: z.enum(['ipc']).optional(),
  ALLOW_EMBEDDED_STORES: allowEmbeddedStores(),
  ...routerSecretEnv,
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
  refuseEmbeddedStores(
    { production, allowEmbedded: c.ALLOW_EMBEDDED_STORES },
    {
      PAYMENTS_DATABASE_URL: { url: c.PAYMENTS_DATABASE_URL, standIn: 'an embedded PGlite database' },
      NATS_URL: { url: c.NATS_URL, standIn: 'an in-process event bus that no other service hears' },
    },
    checks.report,
  );
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    databaseUrl: c.PAYMENTS_DATABASE_URL,
    dataDir: c.PAYMENTS_DATA_DIR,
    natsUrl: c.NATS_URL,
    eventHub: c.EVENT_HUB,
    provider: c.PAYMENT_PROVIDER ?? 'sandbox',
    pendingTimeoutSeconds: c.PAYMENTS_PENDING_TIMEOUT_SECONDS,
    routerSecret: routerSecretFrom(c, production, checks.report),
    tokens: checkedTokenSettings(c, production, checks),
  };
}
