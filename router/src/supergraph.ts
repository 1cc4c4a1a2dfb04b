import { readFileSync, watch } from 'node:fs';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from 'pino';

/**
 * Serves the supergraph from a file and hands every change of it to the gateway,
 * so a new composition is picked up without a restart. A broken file is logged and
 * the running schema kept.
 */
export function supergraphFromFile(path: string, logger: Logger): SupergraphSdlHook {
  return async ({ update }) => {
    const initial = readFileSync(path, 'utf8');
    let current = initial;
    let timer: NodeJS.Timeout | undefined;
    const reload = () => {
      let next: string;
      try {
        next = readFileSync(path, 'utf8');
      } catch (err) {
        logger.warn({ err, path }, 'supergraph file unreadable; keeping the current schema');
        return;
      }
      if (next === current) return;
      try {
        update(next);
        current = next;
        logger.info({ path }, 'supergraph reloaded');
      } catch (err) {
        logger.error({ err, path }, 'new supergraph rejected; keeping the current schema');
      }
    };
    const watcher = watch(path, () => {
      clearTimeout(timer);
      timer = setTimeout(reload, 200);
    });
    watcher.unref();
    return {
      supergraphSdl: initial,
      async cleanup() {
        clearTimeout(timer);
        watcher.close();
      },
    };
  };
}
