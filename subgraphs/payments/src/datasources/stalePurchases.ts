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

/** One pass: settles up to `limit` stale attempts, oldest first; returns how many it looked at. */
export async function sweepStalePurchases(
  store: PaymentsStore,
  provider: PaymentProvider,
  limit = 100,
): Promise<number> {
  const stale = await store.stalePurchases(limit);
  for (const attempt of stale) await settleStalePurchase(store, provider, attempt);
  return stale.length;
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
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async () => {
    try {
      const settled = await sweepStalePurchases(options.store, options.provider);
      if (settled > 0) options.logger.info({ settled }, 'settled stale PENDING payments with the provider');
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
