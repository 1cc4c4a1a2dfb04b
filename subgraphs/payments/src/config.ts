import { authEnv, tokenSettingsFrom } from '@fitness/auth';
import { logFormat, logLevel, nodeEnv, optionalUrl, parseConfig, port, z } from '@fitness/server-kit';

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
  /** NATS JetStream for domain events; unset: the in-process bus (single-instance mode). */
  NATS_URL: optionalUrl(),
  ...authEnv,
});

export type Config = ReturnType<typeof loadConfig>;

/** The only reader of process.env in this package. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = parseConfig('payments', schema, env);
  const production = c.NODE_ENV === 'production';
  if (production && !c.PAYMENT_PROVIDER)
    throw new Error('PAYMENT_PROVIDER must be set when NODE_ENV=production.');
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    databaseUrl: c.PAYMENTS_DATABASE_URL,
    dataDir: c.PAYMENTS_DATA_DIR,
    natsUrl: c.NATS_URL,
    provider: c.PAYMENT_PROVIDER ?? 'sandbox',
    tokens: tokenSettingsFrom(c, production),
  };
}
