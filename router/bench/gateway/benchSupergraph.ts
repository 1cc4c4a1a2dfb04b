/** The benchmark's four subgraphs and their supergraph, composed as the project composes its own. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeSupergraph } from '@fitness/tooling';

export const SUBGRAPH_NAMES = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export const sdlPath = (name: SubgraphName) =>
  fileURLToPath(new URL(`./subgraphs/${name}.graphql`, import.meta.url));

/** Writes the supergraph with routing URLs under `stubsUrl` (one path per subgraph); returns its path. */
export function writeBenchSupergraph(dir: string, stubsUrl: string): string {
  const { supergraphSdl } = composeSupergraph(
    SUBGRAPH_NAMES.map((name) => ({ name, routingUrl: `${stubsUrl}/${name}`, schemaPath: sdlPath(name) })),
  );
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, supergraphSdl);
  return path;
}
