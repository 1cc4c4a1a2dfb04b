import type { Logger } from '@fitness/server-kit';
import type { PaymentRecord } from './models.js';
import type { ChargeResult, PaymentProvider } from './PaymentProvider.js';
import type { PaymentsStore } from './PaymentsStore.js';

export const EXPIRED_REASON =
  'This purchase attempt expired before the card was charged; start a new one with a new idempotencyKey.';

/**
 * Settles a PENDING attempt whose request died, with what the provider says became of
 * it: charged, it completes as the normal path does (membership, ledger, one
 * `payments.succeeded`); never charged, the provider voids its key and it fails.
 * Never charges: a retry of the attempt racing with this one is serialized by the
 * provider (charge or void, whichever comes first, and the other sees its result) and
 * by completePurchase's row lock, so the attempt is charged at most once and settled once.
 */
export async function settleStalePurchase(
  store: PaymentsStore,
  provider: PaymentProvider,
  attempt: PaymentRecord,
): Promise<PaymentRecord> {
  const outcome = await provider.lookupOrVoid(attempt.id);
  const result: ChargeResult =
    outcome.status === 'voided' ? { status: 'declined', reason: EXPIRED_REASON } : outcome;
  const [plan] = await store.plansByIds([attempt.planId]);
  // payments.plan_id references plans, and plans are retired (active = false), never deleted.
  if (!plan) throw new Error(`payment ${attempt.id} has no plan ${attempt.planId}`);
  return store.completePurchase(attempt.id, result, plan);
}

/**
 * One pass over up to `limit` stale attempts, oldest first. One that cannot be settled
 * (the provider is unreachable, say) is logged and left PENDING for the next pass,
 * without holding up the others.
 */
export async function sweepStalePurchases(
  store: PaymentsStore,
  provider: PaymentProvider,
  logger: Logger,
  limit = 100,
): Promise<{ settled: number; failed: number }> {
  const stale = await store.stalePurchases(limit);
  let failed = 0;
  for (const attempt of stale) {
    try {
      await settleStalePurchase(store, provider, attempt);
    } catch (err) {
      failed += 1;
      logger.error(
        { err, paymentId: attempt.id },
        'could not settle a stale PENDING payment; next sweep retries',
      );
    }
  }
  return { settled: stale.length - failed, failed };
}

export interface StalePurchaseSweeper {
  /** Waits for a pass in progress, then stops. */
  stop(): Promise<void>;
}

/**
 * Sweeps stale attempts every `intervalMs`, so that one is settled within the pending
 * timeout plus the interval even if its user never comes back: the provider's answer
 * is asked while the provider still remembers the key. Replicas may all run one:
 * settling is idempotent.
 */
export function startStalePurchaseSweeper(options: {
  store: PaymentsStore;
  provider: PaymentProvider;
  logger: Logger;
  /** @default 60_000 */
  intervalMs?: number;
}): StalePurchaseSweeper {
  const intervalMs = options.intervalMs ?? 60_000;
  const limit = 100;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async () => {
    try {
      // A full page means a backlog: keep going rather than wait an interval per page.
      for (;;) {
        const { settled } = await sweepStalePurchases(options.store, options.provider, options.logger, limit);
        if (settled > 0) options.logger.info({ settled }, 'settled stale PENDING payments with the provider');
        if (settled < limit || stopped) break;
      }
    } catch (err) {
      options.logger.warn({ err }, 'stale payment sweep failed; retrying at the next interval');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = run().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
