import type { Logger } from 'pino';

export interface Service {
  /** Stops the service: drain servers first, then close stores. */
  stop(): Promise<void>;
}

/**
 * A signal this soon after the first is the same Ctrl-C delivered twice (the terminal
 * signals the whole process group, and wrappers such as tsx relay it), not a second
 * request to hurry.
 */
export const SAME_SIGNAL_WINDOW_MS = 1_000;

/**
 * Runs a service until SIGINT or SIGTERM, then stops it gracefully. A second
 * SIGINT (a second Ctrl-C, a second or more after the first), or a stop that takes
 * longer than `forceAfterMs`, exits at once.
 */
export function runUntilSignal(service: Service, logger: Logger, forceAfterMs = 15_000): void {
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      // Under `pnpm start` a Ctrl-C reaches every process of the group and then the
      // launcher asks each service to stop with SIGTERM: a stop already under way.
      // Only a person pressing Ctrl-C again means "now".
      if (signal === 'SIGTERM' || Date.now() - firstSignalAt < SAME_SIGNAL_WINDOW_MS) return;
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error({ forceAfterMs }, 'graceful shutdown timed out, exiting');
      process.exit(1);
    }, forceAfterMs);
    force.unref();
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A promise nobody awaited must not take every other client's requests down with it.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
}

/** Logs and exits on a start-up failure, so a broken config never half-starts a service. */
export function exitOnStartupError(logger: Logger) {
  return (err: unknown) => {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  };
}
