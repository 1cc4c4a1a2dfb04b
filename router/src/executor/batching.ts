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
 * Fetches of one plan merged into one request. The fetches that start at the same
 * point (the children of a Parallel node, branches whose previous fetches were
 * answered together, or a root fetch the plan joined to a later fetch, see
 * joining.ts) and go to the same subgraph are sent as ONE operation: each entity
 * fetch's `_entities` under an alias of its own (`_0`) with its own representations
 * variable, each root fetch's fields under aliases of their own (`_1_0`, `_1_1`...);
 * the answer is split back into one response per fetch, errors by their alias. The
 * subgraph resolves each part as it would alone, so the results are the same; if the
 * merged answer has no data at all, the parts are sent again one by one, so that one
 * part's failure never takes another's data.
 *
 * Only fetches of queries merge (a mutation's own fetches run alone, in order).
 */

/** A fetch's operation parsed once (the planner does not keep the document on fetch nodes). */
const documents = new WeakMap<FetchNode, DocumentNode | null>();

/** What a fetch brings to a merged operation, or null when it cannot be merged. */
interface FetchParts {
  operation: OperationDefinitionNode;
  /** An entity fetch's `_entities` field. */
  entities: FieldNode | undefined;
  /** A root fetch's fields (an entity fetch has none here). */
  fields: FieldNode[];
  fragments: FragmentDefinitionNode[];
}

const fetchParts = new WeakMap<FetchNode, FetchParts | null>();

function isEntitiesField(field: FieldNode): boolean {
  const argument = field.arguments?.[0];
  return (
    field.name.value === '_entities' &&
    !field.alias &&
    field.arguments?.length === 1 &&
    argument?.name.value === 'representations' &&
    argument.value.kind === Kind.VARIABLE &&
    argument.value.name.value === 'representations'
  );
}

function partsOf(fetch: FetchNode): FetchParts | null {
  let parts = fetchParts.get(fetch);
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
  const root = operation?.selectionSet.selections ?? [];
  const fields = root.filter((s): s is FieldNode => s.kind === Kind.FIELD);
  if (
    operations.length === 1 &&
    operation?.operation === 'query' &&
    fetch.operationKind === 'query' &&
    fields.length > 0 &&
    fields.length === root.length
  ) {
    const fragments = document!.definitions.filter(
      (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION,
    );
    if (fetch.requires && fields.length === 1 && isEntitiesField(fields[0]!)) {
      parts = { operation, entities: fields[0]!, fields: [], fragments };
    } else if (
      !fetch.requires &&
      !fields.some((f) => f.name.value === '_entities') &&
      // A response name twice (`plans @include(if: $a) { id } plans { name }`) is one
      // field the subgraph merges: under two aliases its parts would overwrite each other.
      new Set(fields.map((f) => f.alias?.value ?? f.name.value)).size === fields.length
    ) {
      parts = { operation, entities: undefined, fields, fragments };
    }
  }
  fetchParts.set(fetch, parts);
  return parts;
}

/** Whether a fetch may be merged with its siblings: an entity fetch or a root fetch of a query. */
export function isMergeable(fetch: FetchNode): boolean {
  return partsOf(fetch) !== null;
}

/** Whether a fetch may be merged and has no representations: a query's fields from the root. */
export function isMergeableRootFetch(fetch: FetchNode): boolean {
  return partsOf(fetch)?.entities === undefined && isMergeable(fetch);
}

/** Whether fetch merging sends `a` and `b` in one request when they meet (both mergeable). */
export function canMerge(a: FetchNode, b: FetchNode): boolean {
  return mergeOperations([a, b]) !== null;
}

/**
 * One merged operation: its text, and per part the name of its representations
 * variable (entity fetches) or the response name of each of its fields, by alias
 * (root fetches).
 */
interface MergedOperation {
  fetch: FetchNode;
  variableNames: (string | undefined)[];
  fieldNames: (Map<string, string> | undefined)[];
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

/** The alias of entity part `i` in a merged operation, and of field `k` of root part `i`. */
const aliasOf = (i: number) => `_${i}`;
const fieldAliasOf = (i: number, k: number) => `_${i}_${k}`;
/** Whether a response key is one of the aliases a merged operation gives its parts. */
const isPartAlias = (key: unknown) => typeof key === 'string' && /^_\d+(?:_\d+)?$/.test(key);

const aliased = (field: FieldNode, alias: string): FieldNode => ({
  ...field,
  alias: { kind: Kind.NAME, value: alias },
});

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
      if (part.entities && name === 'representations') continue;
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
    // A representations variable per entity part, named apart from the client's variables.
    let prefix = 'representations';
    while ([...variables.keys()].some((n) => n.startsWith(prefix))) prefix = `_${prefix}`;
    const variableNames = parts.map((part, i) => (part.entities ? `${prefix}${i}` : undefined));
    const fieldNames = parts.map((part, i) =>
      part.entities
        ? undefined
        : new Map(part.fields.map((f, k) => [fieldAliasOf(i, k), f.alias?.value ?? f.name.value])),
    );
    const representationsType = (part: FetchParts) =>
      part.operation.variableDefinitions!.find((d) => d.variable.name.value === 'representations')!.type;
    const selections = parts.flatMap((part, i): FieldNode[] => {
      const entities = part.entities;
      if (!entities) return part.fields.map((field, k) => aliased(field, fieldAliasOf(i, k)));
      return [
        visit(entities, {
          Field: (node) => (node === entities ? aliased(node, aliasOf(i)) : undefined),
          Argument: (node) =>
            node === entities.arguments![0]
              ? {
                  ...node,
                  value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variableNames[i]! } },
                }
              : undefined,
        }),
      ];
    });
    const operation: OperationDefinitionNode = {
      kind: Kind.OPERATION_DEFINITION,
      operation: parts[0]!.operation.operation,
      name: { kind: Kind.NAME, value: `${fetches[0]!.operationName ?? 'Entities'}__merged` },
      variableDefinitions: [
        ...parts.flatMap((part, i): VariableDefinitionNode[] =>
          part.entities
            ? [
                {
                  kind: Kind.VARIABLE_DEFINITION,
                  variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: variableNames[i]! } },
                  type: representationsType(part),
                },
              ]
            : [],
        ),
        ...variables.values(),
      ],
      selectionSet: { kind: Kind.SELECTION_SET, selections },
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
    // Unavailable: each part's own SERVICE_UNAVAILABLE errors, under its aliases.
    setUnavailableAnswer(fetch, (sent) => ({
      data: null,
      errors: fetches.flatMap((part, i) => {
        const names = fieldNames[i];
        const aliasOfField = new Map([...(names ?? [])].map(([alias, name]) => [name, alias]));
        const own = names
          ? unavailableResponse(undefined, part.operation, sent)
          : unavailableResponse(undefined, part.operation, { representations: sent[variableNames[i]!] });
        return (own.errors ?? []).map((e) => {
          if (!e.path?.length) return e;
          const head = names ? aliasOfField.get(e.path[0] as string) : aliasOf(i);
          return head ? { ...e, path: [head, ...e.path.slice(1)] } : e;
        });
      }),
    }));
    result = { fetch, variableNames, fieldNames };
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
function partOf(response: SubgraphResponse, operation: MergedOperation, i: number): SubgraphResponse {
  const names = operation.fieldNames[i];
  const alias = aliasOf(i);
  const errors: GraphQLFormattedError[] = [];
  for (const error of response.errors ?? []) {
    const path = error.path;
    const head = path?.[0];
    if (!path?.length) errors.push({ ...error });
    else if (names?.has(head as string))
      errors.push({ ...error, path: [names.get(head as string)!, ...path.slice(1)] });
    else if (!names && head === alias) errors.push({ ...error, path: ['_entities', ...path.slice(1)] });
    else if (!isPartAlias(head)) errors.push({ ...error });
  }
  const extensions = extensionsOf(response, i);
  let data = response.data;
  if (data) {
    if (names) {
      const own: Record<string, unknown> = Object.create(null);
      for (const [fieldAlias, name] of names)
        if (Object.hasOwn(data, fieldAlias)) own[name] = data[fieldAlias];
      data = own;
    } else {
      data = { _entities: data[alias] };
    }
  }
  return {
    ...(data !== undefined ? { data } : {}),
    ...(errors.length ? { errors } : {}),
    ...(extensions ? { extensions } : {}),
  };
}

/**
 * The extensions of part `i`: the subgraph's inline trace (ftv1) covers the whole
 * merged request, so only the first part carries it into the Studio trace; copied to
 * every part, each field it resolved would be counted once per part.
 */
function extensionsOf(response: SubgraphResponse, i: number): Record<string, unknown> | undefined {
  const extensions = response.extensions;
  if (!extensions || i === 0 || !('ftv1' in extensions)) return extensions;
  const { ftv1: _whole, ...rest } = extensions;
  return Object.keys(rest).length ? rest : undefined;
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
          const representations = operation.variableNames[i];
          if (representations && name === 'representations') variables[representations] = value;
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
            p.resolve(partOf(response, operation, i));
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
