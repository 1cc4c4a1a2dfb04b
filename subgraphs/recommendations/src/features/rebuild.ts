import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { defaultRegistry } from '@fitness/events';
import { createLogger, exitOnStartupError } from '@fitness/server-kit';
import type { Advisor } from '../engine/advisor.js';
import type { FeatureStore } from './FeatureStore.js';
import { changeFromEvent } from './model.js';

export interface RebuildResult {
  events: number;
  users: number;
}

/**
 * Replaces the read model with what `lines` (workouts.logged/deleted envelopes,
 * one JSON per line, as `pnpm --filter @fitness/workouts events:export` prints
 * them) describe, then recomputes every user's advice. The store's apply is
 * order-independent, so this equals what incremental delivery built from the
 * same workouts. Events consumed while it runs may be lost: rebuild when nothing
 * is being logged, or run it again.
 */
export async function rebuildFeatures(
  store: FeatureStore,
  lines: AsyncIterable<string> | Iterable<string>,
  options: { advisor?: Advisor; now?: Date } = {},
): Promise<RebuildResult> {
  await store.clear();
  const users = new Set<string>();
  let events = 0;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const change = changeFromEvent(defaultRegistry.decode(line));
    await store.apply(change, options.now);
    users.add(change.userId);
    events++;
  }
  if (options.advisor) for (const userId of users) await options.advisor.refresh(userId);
  return { events, users: users.size };
}

async function main() {
  const { loadConfig } = await import('../config.js');
  const { openStores } = await import('../stores.js');
  const { Advisor } = await import('../engine/advisor.js');
  const config = loadConfig();
  const logger = createLogger('recommendations-rebuild', config.logLevel, config.logFormat);
  if (!config.redisUrl)
    throw new Error('REDIS_URL is required: without it the read model lives inside the service');
  const stores = await openStores(config, logger);
  const advisor = new Advisor({ features: stores.features, cache: stores.cache, logger });
  const result = await rebuildFeatures(stores.features, createInterface({ input: process.stdin }), {
    advisor,
  });
  logger.info(result, 'recommendation features rebuilt');
  await stores.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(exitOnStartupError(createLogger('recommendations-rebuild')));
}
