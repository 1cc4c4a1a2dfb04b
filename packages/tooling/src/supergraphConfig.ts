import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/** The repository root, from this file's place in packages/tooling/src. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface SubgraphEntry {
  name: string;
  routingUrl: string;
  schemaPath: string;
}

/** Reads supergraph.yaml (rover's format: `subgraphs.<name>.routing_url` and `schema.file`). */
export function readSupergraphConfig(path = resolve(repoRoot, 'supergraph.yaml')): SubgraphEntry[] {
  const config = parseYaml(readFileSync(path, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  const entries = Object.entries(config.subgraphs ?? {});
  if (entries.length === 0) throw new Error(`${path} lists no subgraphs.`);
  return entries.map(([name, entry]) => {
    if (!entry.routing_url || !entry.schema?.file) {
      throw new Error(`${path}: subgraph "${name}" needs routing_url and schema.file.`);
    }
    return { name, routingUrl: entry.routing_url, schemaPath: resolve(dirname(path), entry.schema.file) };
  });
}
