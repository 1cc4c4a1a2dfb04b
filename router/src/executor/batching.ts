import type { FetchNode } from '@apollo/query-planner';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type VariableDefinitionNode,
  visit,
} from 'graphql';
import { isUnavailableAnswer, setUnavailableAnswer } from './fetch.js';
import type { FetchSender } from './planExecutor.js';
import { type SubgraphResponse, unavailableResponse } from './subgraphClient.js';

/**
 * Sibling entity fetches merged into one request. The fetches of a plan that start
 * at the same point (the children of a Parallel node, or branches whose previous
 * fetches were answered together) and go to the same subgraph are sent as ONE
 * operation, each fetch's `_entities` under an alias of its own with its own
 * representations variable; the answer is split back into one response per fetch,
 * errors by their alias. The subgraph resolves each part as it would alone, so the
 * results are the same; if the merged answer has no data at all, the parts are sent
 * again one by one, so that one part's failure never takes another's data.
 *
 * Only entity fetches of queries merge (a mutation's own fetches run alone, in order).
 */

/** A fetch's operation parsed once (the planner does not keep the document on fetch nodes). */
const documents = new WeakMap<FetchNode, DocumentNode | null>();

/** The `_entities` field and the variables of an entity fetch, or null when it has another shape. */
interface EntityFetchParts {
  operation: OperationDefinitionNode;
  entities: FieldNode;
  fragments: FragmentDefinitionNode[];
}

const entityParts = new WeakMap<FetchNode, EntityFetchParts | null>();

function partsOf(fetch: FetchNode): EntityFetchParts | null {
  let parts = entityParts.get(fetch);
  if (parts !== undefined) return parts;
  parts = null;
  let document = documents.get(fetch);
  if (document === undefined) {
    try {
      document = parse(fetch.operation);
    } catch {
      document = null;
    }
    documents.set(fetch, document);
  }
  const operations = document?.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION) ?? [];
  const operation = operations[0];
  const root = operation?.selectionSet.selections;
  if (operations.length === 1 && operation?.operation === 'query' && root?.length === 1) {
    const field = root[0]!;
    const argument = field.kind === Kind.FIELD ? field.arguments?.[0] : undefined;
    if (
      field.kind === Kind.FIELD &&
      field.name.value === '_entities' &&
      !field.alias &&
      field.arguments?.length === 1 &&
      argument?.name.value === 'representations' &&
      argument.value.kind === Kind.VARIABLE &&
      argument.value.name.value === 'representations'
    ) {
      parts = {
        operation,
        entities: field,
        fragments: document!.definitions.filter(
          (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
        ),
      };
    }
  }
  entityParts.set(fetch, parts);
  return parts;
}

/** Whether a fetch may be merged with its siblings. */
export function isMergeable(fetch: FetchNode): boolean {
  return !!fetch.requires && fetch.operationKind === 'query' && partsOf(fetch) !== null;
}

/** One merged operation: its text and the name of each part's representations variable. */
interface MergedOperation {
  fetch: FetchNode;
  variableNames: string[];
}

let nextFetchId = 0;
const fetchIds = new WeakMap<FetchNode, number>();
const idOf = (fetch: FetchNode) => {
  let id = fetchIds.get(fetch);
  if (id === undefined) {
    id = nextFetchId++;
    fetchIds.set(fetch, id);
  }
  return id;
};

/** Merged operations by the ids of their parts, in order; plans are cached, so few combinations recur. */
const merged = new Map<string, MergedOperation | null>();
const MERGED_CACHE_LIMIT = 5_000;

/** The alias of part `i` in a merged operation. */
const aliasOf = (i: number) => `_${i}`;

function mergeOperations(fetches: FetchNode[]): MergedOperation | null {
  const key = fetches.map(idOf).join(',');
  const cached = merged.get(key);
  if (cached !== undefined) return cached;
  const parts = fetches.map((f) => partsOf(f)!);
  const variables = new Map<string, VariableDefinitionNode>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  let result: MergedOperation | null = null;
  let clash = false;
  for (const part of parts) {
    for (const definition of part.operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      if (name === 'representations') continue;
      const known = variables.get(name);
      if (known && print(known) !== print(definition)) clash = true;
      variables.set(name, definition);
    }
    for (const fragment of part.fragments) {
      const known = fragments.get(fragment.name.value);
      if (known && print(known) !== print(fragment)) clash = true;
      fragments.set(fragment.name.value, fragment);
    }
  }
  if (!clash) {
    // A representations variable per part, named apart from the client's variables.
    let prefix = 'representations';
    while ([...variables.keys()].some((n) => n.startsWith(prefix))) prefix = `_${prefix}`;
    const variableNames = parts.map((_, i) => `${prefix}${i}`);
    const typeOf = (part: EntityFetchParts) =>
      part.operation.variableDefinitions!.find((d) => d.variable.name.value === 'representations')!.type;
    const operation: OperationDefinitionNode = {
      kind: Kind.OPERATION_DEFINITION,
      operation: parts[0]!.operation.operation,
      name: { kind: Kind.NAME, value: `${fetches[0]!.operationName ?? 'Entities'}__merged` },
      variableDefinitions: [
        ...parts.map(
          (part, i): VariableDefinitionNode => ({
            kind: Kind.VARIABLE_DEFINITION,
            variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variableNames[i]! } },
            type: typeOf(part),
          }),
        ),
        ...variables.values(),
      ],
      selectionSet: {
        kind: Kind.SELECTION_SET,
        selections: parts.map(
          (part, i): FieldNode =>
            visit(part.entities, {
              Field: (node) =>
                node === part.entities
                  ? { ...node, alias: { kind: Kind.NAME, value: aliasOf(i) } }
                  : undefined,
              Argument: (node) =>
                node === part.entities.arguments![0]
                  ? {
                      ...node,
                      value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variableNames[i]! } },
                    }
                  : undefined,
            }),
        ),
      },
    };
    const text = print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments.values()] });
    const fetch: FetchNode = {
      ...fetches[0]!,
      operation: text,
      operationName: operation.name!.value,
      // Not a plan node of its own: only sent, never planned or merged again.
      requires: undefined,
      variableUsages: undefined,
      inputRewrites: undefined,
      outputRewrites: undefined,
    };
    // Unavailable: each part's own SERVICE_UNAVAILABLE errors, under its alias.
    setUnavailableAnswer(fetch, (sent) => ({
      data: null,
      errors: fetches.flatMap((part, i) =>
        (
          unavailableResponse(undefined, part.operation, { representations: sent[variableNames[i]!] })
            .errors ?? []
        ).map((e) => (e.path ? { ...e, path: [aliasOf(i), ...e.path.slice(1)] } : e)),
      ),
    }));
    result = { fetch, variableNames };
  }
  if (merged.size >= MERGED_CACHE_LIMIT) merged.delete(merged.keys().next().value as string);
  merged.set(key, result);
  return result;
}

interface Pending {
  fetch: FetchNode;
  variables: Record<string, unknown>;
  resolve(response: SubgraphResponse): void;
  reject(error: unknown): void;
}

/** One part's response out of a merged answer: its data, its errors (by alias), and the errors of no part. */
function partOf(response: SubgraphResponse, i: number): SubgraphResponse {
  const alias = aliasOf(i);
  const errors: GraphQLFormattedError[] = [];
  for (const error of response.errors ?? []) {
    const path = error.path;
    if (!path?.length) errors.push({ ...error });
    else if (path[0] === alias) errors.push({ ...error, path: ['_entities', ...path.slice(1)] });
    else if (typeof path[0] !== 'string' || !/^_\d+$/.test(path[0])) errors.push({ ...error });
  }
  const data = response.data ? { _entities: response.data[alias] } : response.data;
  return {
    ...(data !== undefined ? { data } : {}),
    ...(errors.length ? { errors } : {}),
    ...(response.extensions ? { extensions: response.extensions } : {}),
  };
}

/**
 * A sender that holds mergeable fetches until the current turn of the event loop has
 * started everything it will, then sends each subgraph's held fetches as one request.
 * One per client operation: fetches of different operations (other credentials,
 * other request ids) never merge.
 */
function mergingSender(send: FetchSender, onMerged?: (parts: number) => void): FetchSender {
  const held = new Map<string, Pending[]>();
  let scheduled = false;

  const sendAlone = (p: Pending) => send(p.fetch, p.variables).then(p.resolve, p.reject);

  const flush = () => {
    scheduled = false;
    const batches = [...held.values()];
    held.clear();
    for (const batch of batches) {
      const operation = batch.length > 1 ? mergeOperations(batch.map((p) => p.fetch)) : null;
      if (!operation) {
        for (const p of batch) void sendAlone(p);
        continue;
      }
      onMerged?.(batch.length);
      const variables: Record<string, unknown> = Object.create(null);
      batch.forEach((p, i) => {
        for (const [name, value] of Object.entries(p.variables)) {
          if (name === 'representations') variables[operation.variableNames[i]!] = value;
          else variables[name] = value;
        }
      });
      send(operation.fetch, variables).then(
        (response) => {
          if (!response.data && response.errors?.length && !isUnavailableAnswer(response)) {
            // No data came back at all: let each part fail, or succeed, on its own.
            for (const p of batch) void sendAlone(p);
            return;
          }
          batch.forEach((p, i) => {
            p.resolve(partOf(response, i));
          });
        },
        (error) => {
          for (const p of batch) p.reject(error);
        },
      );
    }
  };

  return (fetch, variables) => {
    if (!isMergeable(fetch)) return send(fetch, variables);
    return new Promise<SubgraphResponse>((resolve, reject) => {
      let queue = held.get(fetch.serviceName);
      if (!queue) {
        queue = [];
        held.set(fetch.serviceName, queue);
      }
      queue.push({ fetch, variables, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
}

/**
 * `send`, merging sibling entity fetches unless merging is off (SUBGRAPH_FETCH_MERGING);
 * `countMerged` hears how many fetches went inside another's request.
 */
export function withFetchMerging(
  send: FetchSender,
  enabled: boolean,
  countMerged: (fetches: number) => void,
): FetchSender {
  return enabled ? mergingSender(send, (parts) => countMerged(parts - 1)) : send;
}
