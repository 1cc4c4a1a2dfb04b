import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that must never reach a log line: credentials in headers, in GraphQL
 * variables and in store documents.
 */
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'variables.input.password',
  'secret',
  '*.secret',
];

/** One logger per service, with `service` bound on every line. */
export function createLogger(service: string, level: string = 'info'): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
