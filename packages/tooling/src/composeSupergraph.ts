import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import { parse, printSchema } from 'graphql';
import type { SubgraphEntry } from './supergraphConfig.js';

export interface Composed {
  supergraphSdl: string;
  apiSdl: string;
  hints: string[];
}

export class CompositionError extends Error {
  constructor(readonly problems: string[]) {
    super(`Composition failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Composes the subgraphs into a supergraph and derives the client-facing API schema. */
export function composeSupergraph(subgraphs: SubgraphEntry[]): Composed {
  const result = composeServices(
    subgraphs.map((s) => ({
      name: s.name,
      url: s.routingUrl,
      typeDefs: parse(readFileSync(s.schemaPath, 'utf8')),
    })),
  );
  if (result.errors) {
    throw new CompositionError(result.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`));
  }
  const hints = result.hints.map((h) => `${h.definition.code}: ${h.message}`);
  const apiSchema = Supergraph.build(result.supergraphSdl).apiSchema().toGraphQLJSSchema();
  return { supergraphSdl: result.supergraphSdl, apiSdl: `${printSchema(apiSchema)}\n`, hints };
}
