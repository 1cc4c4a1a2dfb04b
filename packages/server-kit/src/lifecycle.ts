import type { Logger } from 'pino';

export interface Service {
  /** Stops the service: drain servers first, then close stores. */
  stop(): Promise<void>;
}

/**
 * Runs a service until SIGINT or SIGTERM, then stops it gracefully. A second
 * signal, or a stop that takes longer than `forceAfterMs`, exits at once.
 */
export function runUntilSignal(service: Service, logger: Logger, forceAfterMs = 15_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
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
}

/** Logs and exits on a start-up failure, so a broken config never half-starts a service. */
export function exitOnStartupError(logger: Logger) {
  return (err: unknown) => {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  };
}
