import { Gauge, Registry } from 'prom-client';

/** Answers whether one part of a service responds now; never throws to its caller. */
export type Check = () => Promise<boolean> | boolean;

/**
 * How long one check may take before it counts as down, so a store that hangs
 * makes /ready and /health answer "down" instead of hanging too.
 * @default 2_000
 */
export const CHECK_TIMEOUT_MS = 2_000;

/** Runs a check with a time limit; a throw or a time-out is `false`. */
export async function runCheck(check: Check, timeoutMs = CHECK_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once; the result names each one `true` (up) or `false`. */
export async function runChecks(checks: Record<string, Check>): Promise<Record<string, boolean>> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => runCheck(checks[name]!)));
  return Object.fromEntries(names.map((name, i) => [name, results[i]!]));
}

/**
 * A check whose answer is reused for `ttlMs`, with at most one run in flight: load
 * balancers and scrapers polling often cost the store one probe per interval.
 */
export function cachedCheck(check: Check, ttlMs = 1_000): Check {
  let last: { at: number; value: boolean } | undefined;
  let running: Promise<boolean> | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return last.value;
    running ??= runCheck(check).then((value) => {
      last = { at: Date.now(), value };
      running = undefined;
      return value;
    });
    return running;
  };
}

/**
 * The metrics every service exposes on GET /metrics: whether it is ready (its
 * primary store takes requests) and whether each dependency answers, read at
 * scrape time. Services register their own metrics on the same registry.
 */
export function createServiceMetrics(options: {
  registry?: Registry;
  ready: Check;
  dependencies: Record<string, Check>;
}): Registry {
  const registry = options.registry ?? new Registry();
  new Gauge({
    name: 'service_ready',
    help: '1 while the service can serve: its primary store answers (what GET /ready reports).',
    registers: [registry],
    async collect() {
      this.set((await runCheck(options.ready)) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'service_dependency_up',
    help: '1 while a dependency that is not the primary store (event bus, Redis, caches) answers.',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      for (const [dependency, up] of Object.entries(await runChecks(options.dependencies))) {
        this.set({ dependency }, up ? 1 : 0);
      }
    },
  });
  return registry;
}
