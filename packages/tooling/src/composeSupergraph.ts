import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import { type ConstDirectiveNode, type DocumentNode, Kind, parse, printSchema } from 'graphql';
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
  const services = subgraphs.map((s) => ({
    name: s.name,
    url: s.routingUrl,
    typeDefs: parse(readFileSync(s.schemaPath, 'utf8')),
  }));
  const misplaced = services.flatMap((s) => selfOnlyOwnershipProblems(s.name, s.typeDefs));
  if (misplaced.length > 0) throw new CompositionError(misplaced);
  const result = composeServices(services);
  if (result.errors) {
    throw new CompositionError(result.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`));
  }
  const hints = result.hints.map((h) => `${h.definition.code}: ${h.message}`);
  const apiSchema = Supergraph.build(result.supergraphSdl).apiSchema().toGraphQLJSSchema();
  return { supergraphSdl: result.supergraphSdl, apiSdl: `${printSchema(apiSchema)}\n`, hints };
}

const named = (directives: readonly ConstDirectiveNode[] | undefined, ...names: string[]) =>
  (directives ?? []).filter((d) => names.includes(d.name.value));

/**
 * Composition merges `@selfOnly` from every subgraph into the supergraph field, so a
 * subgraph could make a field private (or look as if it guarded one) that another
 * subgraph resolves and never checks. Only the subgraph that resolves a field may
 * mark it: not on an `@external` field, nor on a type it only references
 * (`@key(resolvable: false)`).
 */
export function selfOnlyOwnershipProblems(subgraph: string, document: DocumentNode): string[] {
  const problems: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION)
      continue;
    const keys = named(definition.directives, 'key', 'federation__key');
    const referenceOnly =
      keys.length > 0 &&
      keys.every((k) =>
        k.arguments?.some(
          (a) => a.name.value === 'resolvable' && a.value.kind === Kind.BOOLEAN && !a.value.value,
        ),
      );
    for (const field of definition.fields ?? []) {
      if (named(field.directives, 'selfOnly').length === 0) continue;
      const coordinate = `${definition.name.value}.${field.name.value}`;
      if (named(field.directives, 'external', 'federation__external').length > 0) {
        problems.push(
          `SELF_ONLY_NOT_OWNED: [${subgraph}] ${coordinate} is @external there; mark it @selfOnly in the subgraph that resolves it.`,
        );
      } else if (referenceOnly) {
        problems.push(
          `SELF_ONLY_NOT_OWNED: [${subgraph}] ${definition.name.value} is only referenced there (@key(resolvable: false)); ${coordinate} cannot be @selfOnly in it.`,
        );
      }
    }
  }
  return problems;
}
