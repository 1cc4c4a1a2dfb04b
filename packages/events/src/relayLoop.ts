import type { Logger } from 'pino';
import type { EventBus } from './bus.js';

export interface RelayLoopOptions {
  bus: EventBus;
  logger: Logger;
  /** What a failed round is logged as. */
  name: string;
  batchSize: number;
  pollIntervalMs: number;
  maxRetryDelayMs: number;
  /** One round; resolves to how much it found, so a full batch is followed at once by the next. */
  round(): Promise<number>;
}

/**
 * The loop of both outbox relays: no round while the bus is down (claiming then
 * would only hold what every publish will refuse), a poll interval's pause after a
 * round that found less than a batch, a doubling back-off while rounds fail.
 * `wake()` ends a pause early (a NOTIFY, or stop()).
 */
export class RelayLoop {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;

  constructor(private readonly options: RelayLoopOptions) {}

  get running(): boolean {
    return this.loop !== null;
  }

  start(): void {
    this.stopping = false;
    this.loop ??= this.run();
  }

  /** Lets the round in flight finish, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.loop = null;
  }

  wake(): void {
    this.wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    const { bus, logger, name, batchSize, pollIntervalMs, maxRetryDelayMs } = this.options;
    let failuresInARow = 0;
    while (!this.stopping) {
      if (!bus.ready()) {
        await this.sleep(pollIntervalMs);
        continue;
      }
      try {
        const found = await this.options.round();
        failuresInARow = 0;
        if (found < batchSize && !this.stopping) await this.sleep(pollIntervalMs);
      } catch (error) {
        failuresInARow++;
        logger.warn({ err: error, failuresInARow }, `${name} failed; retrying`);
        if (!this.stopping) await this.sleep(Math.min(maxRetryDelayMs, pollIntervalMs * 2 ** failuresInARow));
      }
    }
  }
}
