import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, isPublicCode } from './errors.js';
import type { LineLogger, Logger } from './logger.js';

/**
 * graphql-js suggests names it knows ("Did you mean \"email\"?"): with introspection
 * off that rebuilds the schema one guess at a time.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/s, '');
}

export interface FormatErrorOptions {
  /**
   * Production: no name suggestions in messages, and no `serviceName` (which names
   * internal subgraphs) in extensions.
   * @default false
   */
  hideSchemaDetails?: boolean;
}

/**
 * graphql-js refuses an argument literal that its scalar cannot parse (a DateTime
 * that is no date) during validation; when the scalar said BAD_USER_INPUT, that
 * stays the code, as for the same value sent in a variable.
 */
function keepInputCode(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  if (formatted.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED') return formatted;
  const cause = error instanceof GraphQLError ? error.originalError : undefined;
  if (!(cause instanceof GraphQLError) || cause.extensions.code !== ErrorCode.BAD_USER_INPUT)
    return formatted;
  return { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT } };
}

// The request id of each error a request met, for the log line formatError writes.
const requestOfError = new WeakMap<object, string>();

/** What Apollo Server writes, request context unknown, when processing a request threw. */
const UNEXPECTED_PROCESSING_ERROR = 'Unexpected error processing request: ';

/**
 * Tags each error a request meets with the request's id, so that formatError's
 * line about an unexpected one names the request: Apollo Server's formatError sees
 * the error only. Runs only for requests that meet errors. With `logger`, a request
 * whose processing threw (a failing hook) is logged with its id, in place of Apollo
 * Server's own line, which apolloServerLogger leaves out.
 */
export function errorRequestIdPlugin<TContext extends BaseContext>(
  requestIdOf: (contextValue: TContext) => string | undefined,
  logger?: Logger,
): ApolloServerPlugin<TContext> {
  const listener = {
    async didEncounterErrors({
      errors,
      contextValue,
    }: {
      errors: readonly object[];
      contextValue: TContext;
    }) {
      const requestId = requestIdOf(contextValue);
      if (requestId) for (const error of errors) requestOfError.set(error, requestId);
    },
  };
  // One promise for every request: a request without errors costs nothing more.
  const started = Promise.resolve(listener);
  return {
    requestDidStart: () => started,
    ...(logger
      ? {
          async unexpectedErrorProcessingRequest({ requestContext, error }) {
            const requestId = requestIdOf(requestContext.contextValue);
            logger.error(
              { err: error, ...(requestId ? { requestId } : {}) },
              'unexpected error processing request',
            );
          },
        }
      : {}),
  };
}

/**
 * Apollo Server's logger for a process that logs request lines without a request
 * scope: everything goes to `logger` but Apollo's "Unexpected error processing
 * request" line, which errorRequestIdPlugin (given the logger) writes with the
 * request's id instead.
 */
export function apolloServerLogger(logger: Logger): LineLogger {
  return {
    debug: (message) => logger.debug(message),
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => {
      if (typeof message === 'string' && message.startsWith(UNEXPECTED_PROCESSING_ERROR)) return;
      logger.error(message);
    },
  };
}

/**
 * Builds Apollo Server's `formatError`: errors with a contract code pass through
 * without internals (no stacktrace, no exception payload); anything else is logged
 * with its cause and replaced by a generic INTERNAL_SERVER_ERROR, so SQL, driver
 * messages and stack traces never reach a client.
 */
export function createFormatError(logger: Logger, options: FormatErrorOptions = {}) {
  /** `requestId`: the request the error belongs to, for a caller that knows it (else its tag). */
  return (raw: GraphQLFormattedError, error: unknown, requestId?: string): GraphQLFormattedError => {
    const formatted = keepInputCode(raw, error);
    const code = formatted.extensions?.code;
    if (isPublicCode(code)) {
      const { stacktrace: _s, exception: _e, http: _h, ...extensions } = formatted.extensions ?? {};
      if (!options.hideSchemaDetails) return { ...formatted, extensions };
      const { serviceName: _service, ...kept } = extensions;
      return { ...formatted, message: withoutSuggestions(formatted.message), extensions: kept };
    }
    const cause = unwrapResolverError(error);
    const request =
      requestId ?? (typeof error === 'object' && error !== null ? requestOfError.get(error) : undefined);
    const where = request ? { path: formatted.path, requestId: request } : { path: formatted.path };
    // An error the engine made itself (no thrown cause, e.g. a non-null field that
    // came back null) says all it has in its message: its stack is the engine's.
    if (cause instanceof GraphQLError && !cause.originalError) {
      logger.error({ message: cause.message, ...where }, 'unexpected error in operation');
    } else {
      logger.error({ err: cause, ...where }, 'unexpected error in operation');
    }
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
