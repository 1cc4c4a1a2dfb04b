/**
 * `pnpm compose`: supergraph.yaml -> schema/supergraph.graphql + schema/api.graphql.
 * `pnpm compose:check`: fails when the committed files differ from a fresh composition.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { CompositionError, composeSupergraph } from './composeSupergraph.js';
import { readSupergraphConfig, repoRoot } from './supergraphConfig.js';

const check = process.argv.includes('--check');
const outputs = {
  supergraph: resolve(repoRoot, 'schema/supergraph.graphql'),
  api: resolve(repoRoot, 'schema/api.graphql'),
};

try {
  const composed = composeSupergraph(readSupergraphConfig());
  for (const hint of composed.hints) process.stdout.write(`hint: ${hint}\n`);
  const files: [string, string][] = [
    [outputs.supergraph, composed.supergraphSdl],
    [outputs.api, composed.apiSdl],
  ];
  if (check) {
    const stale = files.filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text);
    for (const [path] of stale)
      process.stderr.write(`stale: ${relative(repoRoot, path)}; run \`pnpm compose\`\n`);
    if (stale.length) process.exit(1);
    process.stdout.write('composed schemas are up to date\n');
  } else {
    for (const [path, text] of files) writeFileSync(path, text);
    process.stdout.write(`composed ${files.map(([p]) => relative(repoRoot, p)).join(', ')}\n`);
  }
} catch (error) {
  if (error instanceof CompositionError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
