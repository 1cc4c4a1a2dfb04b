import { type DestinationStream, type Logger, pino } from 'pino';
import { type LogFormat, prettyStream, wantsPretty } from './prettyLog.js';
import { logScopeFields } from './requestScope.js';

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
  // The router secret (trustedHop.ts): as a header and in graphql-ws connectionParams.
  '["x-router-secret"]',
  '*["x-router-secret"]',
  'req.headers["x-router-secret"]',
  '*.connectionParams["x-router-secret"]',
];

/**
 * One logger per service, with `service` bound on every line, and on every line
 * written while a request is handled its `requestId` and `traceId` (see
 * runInRequestScope), whichever logger or child logger writes it. JSON lines by
 * default; readable, coloured lines when `format` says so (`auto`: when stdout is a
 * terminal). Redaction applies to both.
 */
export function createLogger(
  service: string,
  level: string = 'info',
  format: LogFormat = 'json',
  /** Where JSON lines go instead of stdout (tests read them). */
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: logScopeFields,
  };
  if (destination) return pino(options, destination);
  return wantsPretty(format)
    ? pino(options, prettyStream({ color: process.stdout.isTTY === true }))
    : pino(options);
}

/** The logger Apollo Server and @apollo/gateway write to: one message a call. */
export interface LineLogger {
  debug(message?: unknown): void;
  info(message?: unknown): void;
  warn(message?: unknown): void;
  error(message?: unknown): void;
}

/**
 * A LineLogger for one request's lines (what @apollo/gateway writes to its request
 * context's logger): each line carries `requestId`, an Error its stack as `err`. For
 * a process without a request scope (the router while tracing is off).
 */
export function requestLogger(logger: Logger, requestId: string | undefined): LineLogger {
  if (!requestId) return logger;
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message?: unknown): void => {
      if (message instanceof Error) logger[level]({ requestId, err: message }, message.message);
      else logger[level]({ requestId }, String(message));
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
