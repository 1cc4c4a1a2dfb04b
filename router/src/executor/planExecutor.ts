import { ERRORS, errorCodeDef, type Operation } from '@apollo/federation-internals';
import {
  evaluateCondition,
  type FetchDataRewrite,
  type FetchNode,
  getResponseName,
  type PlanNode,
  type QueryPlan,
  type QueryPlanSelectionNode,
} from '@apollo/query-planner';
import {
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  isAbstractType,
  isInterfaceType,
  isObjectType,
} from 'graphql';
import type { Shaper } from './shape.js';
import type { SubgraphResponse } from './subgraphClient.js';

/** Sends one fetch of the plan (its operation with these variables) and answers the subgraph's response. */
export type FetchSender = (fetch: FetchNode, variables: Record<string, unknown>) => Promise<SubgraphResponse>;

/** An operation as the executor runs it: planned, its shaping compiled, both cached together. */
export interface PreparedPlan {
  plan: QueryPlan;
  /** The plan node to execute: the plan's own, or the same plan with root fetches joined (joining.ts). */
  node: QueryPlan['node'];
  /** The operation as federation reads it (for variable definitions of Condition nodes). */
  operation: Operation;
  shaper: Shaper;
}

export interface PlanResult {
  data?: Record<string, unknown> | null;
  errors?: GraphQLError[];
  extensions?: Record<string, unknown>;
}

type Path = (string | number)[];
type Json = Record<string, unknown>;

/** Per supergraph: the type tests that representations and rewrites need, answered once per pair of types. */
export class SupergraphTypes {
  private readonly tests = new Map<string, boolean>();

  constructor(readonly schema: GraphQLSchema) {}

  /** @apollo/gateway's isObjectOfType: whether `value`'s __typename is, or belongs to, `condition`. */
  isObjectOfType(value: Json, condition: string, whenUnknown = false): boolean {
    const typename = value.__typename as string | undefined;
    if (!typename) return whenUnknown;
    if (condition === typename) return true;
    const key = `${typename}\u0000${condition}`;
    let answer = this.tests.get(key);
    if (answer === undefined) {
      const type = this.schema.getType(typename);
      const conditional = this.schema.getType(condition);
      answer =
        !!type &&
        !!conditional &&
        isAbstractType(conditional) &&
        (isObjectType(type) || isInterfaceType(type)) &&
        this.schema.isSubType(conditional, type);
      this.tests.set(key, answer);
    }
    return answer;
  }
}

type RepresentationOf = (source: unknown) => Json | null;

// Compiled once per fetch node, which lives as long as its cached plan.
const representationBuilders = new WeakMap<FetchNode, RepresentationOf>();

/** Builds a fetch's `requires` selection into a function from an entity to its representation. */
function compileRequires(
  types: SupergraphTypes,
  selections: readonly QueryPlanSelectionNode[],
): RepresentationOf {
  const steps = selections.map((selection) =>
    selection.kind === 'Field'
      ? {
          name: getResponseName(selection),
          sub: selection.selections ? compileRequires(types, selection.selections) : undefined,
          condition: undefined,
        }
      : {
          name: undefined,
          sub: compileRequires(types, selection.selections),
          condition: selection.typeCondition,
        },
  );
  return (source) => {
    if (source === null) return null;
    const object = source as Json;
    const result: Json = {};
    for (const step of steps) {
      if (step.name !== undefined) {
        const value = Object.hasOwn(object, step.name) ? object[step.name] : undefined;
        if (value === undefined) return null;
        const sub = step.sub;
        if (Array.isArray(value)) result[step.name] = sub ? value.map((v) => sub(v)) : value;
        else result[step.name] = sub ? sub(value) : value;
      } else {
        if (!step.condition || !source) continue;
        if (types.isObjectOfType(object, step.condition)) mergeInto(result, step.sub(object));
      }
    }
    return result;
  };
}

/**
 * Merges a subgraph's answer into the data already there, in place: objects field by
 * field, lists of the same length element by element, anything else replaced (what
 * @apollo/gateway's deepMerge does, without its per-key property definitions).
 */
export function mergeInto(target: Json, source: Json | null | undefined): void {
  if (source === undefined || source === null) return;
  // JSON objects: no enumerable inherited keys.
  for (const key in source) {
    const value = source[key];
    if (value === undefined) continue;
    // Own keys only: a field named like an Object.prototype member is data, not a method.
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (existing && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      mergeInto(existing as Json, value as Json);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i += 1) {
        const a = existing[i];
        const b = value[i];
        if (isPlainObject(a) && isPlainObject(b)) mergeInto(a, b);
        else existing[i] = b;
      }
    } else {
      setOwn(target, key, value);
    }
  }
}

/** Sets an own property, also for `__proto__`, which plain assignment would take as the prototype. */
function setOwn(target: Json, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The values under a plan path (`@` = every element of a list), lists flattened one level per `@`. */
function flattenAt(value: unknown, path: readonly (string | number)[], at: number): unknown {
  if (at === path.length) return value;
  if (value === undefined || value === null) return value;
  const key = path[at]!;
  if (key === '@') {
    const out: unknown[] = [];
    for (const element of value as unknown[]) {
      const inner = flattenAt(element, path, at + 1);
      if (Array.isArray(inner)) for (const v of inner) out.push(v);
      else out.push(inner);
    }
    return out;
  }
  if (typeof key !== 'string') throw new Error(`Unexpected ${typeof key} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${key}`);
  const object = value as Json;
  return flattenAt(Object.hasOwn(object, key) ? object[key] : undefined, path, at + 1);
}

/** Every concrete response path that a plan path (with `@`) reaches in the data, as the gateway lists them. */
function hydratedPaths(parent: Path, path: readonly (string | number)[], data: unknown, into: Path[]): void {
  if (data == null) return;
  const head = path[0];
  if (head === undefined) {
    into.push(parent.slice());
  } else if (head === '@') {
    (data as unknown[]).forEach((value, i) => {
      parent.push(i);
      hydratedPaths(parent, path.slice(1), value, into);
      parent.pop();
    });
  } else if (Array.isArray(data)) {
    data.forEach((value, i) => {
      parent.push(i);
      hydratedPaths(parent, path, value, into);
      parent.pop();
    });
  } else if (Object.hasOwn(data as Json, head as string)) {
    parent.push(head);
    hydratedPaths(parent, path.slice(1), (data as Json)[head as string], into);
    parent.pop();
  }
}

function parsePathElement(element: string): { typeName: string } | { field: string } {
  return element.startsWith('... on ') ? { typeName: element.slice(7) } : { field: element };
}

function applyAtPath(types: SupergraphTypes, path: string[], value: unknown, apply: (o: Json) => void): void {
  if (Array.isArray(value)) {
    for (const element of value) applyAtPath(types, path, element, apply);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as Json;
  if (path.length === 0) {
    apply(object);
    return;
  }
  const [first, ...rest] = path as [string, ...string[]];
  const element = parsePathElement(first);
  if ('field' in element) {
    applyAtPath(types, rest, Object.hasOwn(object, element.field) ? object[element.field] : undefined, apply);
  } else if (types.isObjectOfType(object, element.typeName, true)) {
    applyAtPath(types, rest, object, apply);
  }
}

/** The plan's data rewrites (@interfaceObject typenames, renamed keys), as the gateway applies them. */
function applyRewrites(
  types: SupergraphTypes,
  rewrites: FetchDataRewrite[] | undefined,
  value: unknown,
): void {
  if (!rewrites) return;
  for (const rewrite of rewrites) {
    if (rewrite.path.length === 0) continue;
    const parent = rewrite.path.slice(0, -1);
    const last = parsePathElement(rewrite.path[rewrite.path.length - 1]!);
    if (!('field' in last)) throw new Error(`Unexpected fragment as last element of ${rewrite.path}`);
    const field = last.field;
    applyAtPath(types, parent, value, (object) => {
      if (rewrite.kind === 'ValueSetter') {
        setOwn(object, field, rewrite.setValueTo);
      } else {
        const renamed = Object.hasOwn(object, field) ? object[field] : undefined;
        if (renamed) {
          setOwn(object, rewrite.renameKeyTo, renamed);
          object[field] = undefined;
        }
      }
    });
  }
}

/** A subgraph's error as the client sees it: its path in the client's response, its code kept or given. */
function downstreamError(
  error: GraphQLFormattedError,
  serviceName: string,
  path: Path | undefined,
): GraphQLError {
  const message = error.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = {
    originalError: error as unknown as Error,
    path,
    extensions: { ...error.extensions, serviceName },
  };
  const code = errorCodeDef(error);
  if (!code && error.extensions?.code) return new GraphQLError(message, options);
  return (code ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

interface Cursor {
  path: Path;
  data: unknown;
}

interface Run {
  types: SupergraphTypes;
  prepared: PreparedPlan;
  variables: Record<string, unknown> | undefined;
  send: FetchSender;
  data: Json;
  errors: (GraphQLError | Error)[];
}

async function executeNode(run: Run, node: PlanNode, cursor: Cursor): Promise<void> {
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(run, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(run, child, cursor)));
      return;
    case 'Flatten': {
      const data = flattenAt(cursor.data, node.path, 0);
      if (!data) return;
      await executeNode(run, node.node, { path: cursor.path.concat(node.path), data });
      return;
    }
    case 'Fetch':
      try {
        await executeFetch(run, node, cursor);
      } catch (error) {
        run.errors.push(error as Error);
      }
      return;
    case 'Condition': {
      const branch = evaluateCondition(node, run.prepared.operation.variableDefinitions, run.variables)
        ? node.ifClause
        : node.elseClause;
      if (branch) await executeNode(run, branch, cursor);
      return;
    }
    case 'Defer':
      throw new Error('@defer is not supported.');
  }
}

async function executeFetch(run: Run, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const entities: Json[] = Array.isArray(cursor.data)
    ? (cursor.data.filter((e) => e !== null && e !== undefined) as Json[])
    : [cursor.data as Json];
  if (entities.length < 1) return;
  const variables = Object.create(null) as Record<string, unknown>;
  const provided = run.variables;
  if (fetch.variableUsages && provided) {
    for (const name of fetch.variableUsages) {
      if (Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }
  }
  if (!fetch.requires) {
    const data = await send(run, fetch, cursor, variables);
    if (data) applyRewrites(run.types, fetch.outputRewrites, data);
    for (const entity of entities) mergeInto(entity, data);
    return;
  }
  let build = representationBuilders.get(fetch);
  if (!build) {
    build = compileRequires(run.types, fetch.requires);
    representationBuilders.set(fetch, build);
  }
  const representations: Json[] = [];
  const owners: Json[] = [];
  for (const entity of entities) {
    const representation = build(entity);
    if (representation?.__typename) {
      applyRewrites(run.types, fetch.inputRewrites, representation);
      representations.push(representation);
      owners.push(entity);
    }
  }
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
  variables.representations = representations;
  const data = await send(run, fetch, cursor, variables);
  if (!data) return;
  const received = data._entities;
  if (!Array.isArray(received)) throw new Error('Expected "data._entities" in response to be an array');
  if (received.length !== representations.length) {
    throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  }
  for (let i = 0; i < owners.length; i += 1) {
    const entity = received[i] as Json | null;
    const owner = owners[i]!;
    if (entity && !entity.__typename) entity.__typename = owner.__typename;
    applyRewrites(run.types, fetch.outputRewrites, entity);
    mergeInto(owner, entity);
  }
}

async function send(run: Run, fetch: FetchNode, cursor: Cursor, variables: Record<string, unknown>) {
  const response = await run.send(fetch, variables);
  if (response.errors) {
    let hydrated: Path[] | undefined;
    for (const error of response.errors) {
      const errorPath = error.path as Path | undefined;
      let path: Path | undefined;
      if (fetch.requires && typeof errorPath?.[1] === 'number') {
        if (!hydrated) {
          hydrated = [];
          hydratedPaths([], cursor.path, run.data, hydrated);
        }
        path = [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
      } else {
        path = errorPath ? [...cursor.path, ...errorPath] : undefined;
      }
      run.errors.push(downstreamError(error, fetch.serviceName, path));
    }
  }
  return response.data as Json | null | undefined;
}

/**
 * Runs a query plan: fetches in the plan's order (Parallel nodes at once), each answer
 * merged in place into one tree, then the client's response shaped from it by the
 * operation's compiled shaper. The errors are @apollo/gateway's (same messages, paths
 * and codes), with value-completion errors in `errors` where the gateway would hide
 * them under `extensions.valueCompletion` (see gateway.ts).
 */
export async function executePlan(
  prepared: PreparedPlan,
  types: SupergraphTypes,
  variables: Record<string, unknown> | undefined,
  sendFetch: FetchSender,
): Promise<PlanResult> {
  const run: Run = {
    types,
    prepared,
    variables,
    send: sendFetch,
    data: {},
    errors: [],
  };
  const node = prepared.node;
  if (node?.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
  if (node) await executeNode(run, node, { path: [], data: run.data });
  let shaped: ReturnType<Shaper['shape']>;
  try {
    shaped = prepared.shaper.shape(run.data, variables);
  } catch (error) {
    return {
      errors: [
        error instanceof GraphQLError
          ? error
          : new GraphQLError((error as Error).message, { originalError: error as Error }),
      ],
    };
  }
  const errors = run.errors as GraphQLError[];
  if (errors.length === 0) {
    if (shaped.errors.length === 0) return { data: shaped.data };
    return { data: shaped.data, errors: shaped.errors.map(completionError) };
  }
  return { errors, data: shaped.data };
}

/**
 * A value-completion error as a field error of the response, with its path and the
 * code INTERNAL_SERVER_ERROR: one rule for both executors (withCompletionErrors in
 * gateway.ts applies it to the gateway's `extensions.valueCompletion`).
 */
export function completionError(
  error: Partial<Pick<GraphQLError, 'message' | 'path' | 'extensions'>>,
): GraphQLError {
  return new GraphQLError(error.message ?? 'Cannot complete a value of the response.', {
    ...(error.path ? { path: error.path } : {}),
    extensions: { ...error.extensions, code: 'INTERNAL_SERVER_ERROR' },
  });
}
