import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, isPublicCode } from './errors.js';

/**
 * Builds Apollo Server's `formatError`: errors with a contract code pass through
 * without internals (no stacktrace, no exception payload); anything else is logged
 * with its cause and replaced by a generic INTERNAL_SERVER_ERROR, so SQL, driver
 * messages and stack traces never reach a client.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (isPublicCode(code)) {
      const { stacktrace: _s, exception: _e, http: _h, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    const cause = unwrapResolverError(error);
    // An error the engine made itself (no thrown cause, e.g. a non-null field that
    // came back null) says all it has in its message: its stack is the engine's.
    if (cause instanceof GraphQLError && !cause.originalError) {
      logger.error({ message: cause.message, path: formatted.path }, 'unexpected error in operation');
    } else {
      logger.error({ err: cause, path: formatted.path }, 'unexpected error in operation');
    }
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
