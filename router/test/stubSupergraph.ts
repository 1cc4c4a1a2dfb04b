import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@fitness/server-kit';
import { composeSupergraph } from '@fitness/tooling';
import { loadConfig } from '../src/config.js';
import { type RunningRouter, startRouter } from '../src/server.js';
import { startStubSubgraph } from './stubSubgraph.js';

export interface StubDefinition {
  name: string;
  sdl: string;
  resolvers: Record<string, unknown>;
}

/**
 * Stub subgraphs over HTTP and the supergraph composed of them, written to a
 * temporary directory for SUPERGRAPH_PATH; `stop` stops them and removes it.
 */
export async function startStubSupergraph(
  definitions: StubDefinition[],
  options: { inlineTrace?: boolean } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'router-stubs-'));
  const subgraphs: Record<string, Awaited<ReturnType<typeof startStubSubgraph>>> = {};
  for (const { name, sdl, resolvers } of definitions) {
    subgraphs[name] = await startStubSubgraph(sdl, resolvers, 0, options);
  }
  const parts = definitions.map(({ name, sdl }) => {
    const schemaPath = join(dir, `${name}.graphql`);
    writeFileSync(schemaPath, sdl);
    return { name, routingUrl: subgraphs[name]!.url, schemaPath };
  });
  const supergraphSdl = composeSupergraph(parts).supergraphSdl;
  const supergraphPath = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphPath, supergraphSdl);
  return {
    subgraphs,
    supergraphSdl,
    supergraphPath,
    async stop() {
      await Promise.all(Object.values(subgraphs).map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A router over `stubs` on a free port, with `env` on top of the defaults. */
export function startStubRouter(
  stubs: { supergraphPath: string },
  logger: Logger,
  env: Record<string, string> = {},
): Promise<RunningRouter> {
  return startRouter(
    loadConfig({ PORT: '0', SUPERGRAPH_PATH: stubs.supergraphPath, SUBGRAPH_TIMEOUT_MS: '2000', ...env }),
    logger,
  );
}
