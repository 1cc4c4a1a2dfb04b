import type { ApolloServerPlugin } from '@apollo/server';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';

/**
 * Demand control: a static estimate of what an operation costs, taken before it is
 * planned, from the list sizes it may return (after Apollo Router's demand control
 * and the IBM GraphQL cost specification).
 *
 * - An object (or interface, union) costs 1, a scalar or enum 0, a mutation's root
 *   field 10 more. A field's `@cost(weight:)` is the work of resolving it: it replaces
 *   the type's cost, and on a list it is paid once, not per item.
 * - A list multiplies what each item costs by its size: the value of a slicing
 *   argument (`first`, also through variables or its default), else the field's
 *   `@listSize(assumedSize:)`, else DEFAULT_LIST_SIZE. `@listSize(sizedFields:)` moves
 *   the size onto a child list (a connection's `edges`).
 * - Fragments count where they are spread; every branch of an abstract type counts.
 *
 * The directives come from the subgraph schemas, composed into the supergraph.
 */

/** A list whose size the schema cannot tell: an estimate, not a bound. */
export const DEFAULT_LIST_SIZE = 10;
/** What a mutation's root field adds: writes cost more than reads. */
export const MUTATION_WEIGHT = 10;

interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/** `@cost` and `@listSize` of the supergraph, by `Type.field`. */
export interface CostDirectives {
  weights: Map<string, number>;
  listSizes: Map<string, ListSize>;
}

const fromSdlCache = new Map<string, CostDirectives>();

/** Reads `@cost` and `@listSize` off the fields of a composed supergraph SDL. */
export function costDirectivesOf(supergraphSdl: string): CostDirectives {
  const cached = fromSdlCache.get(supergraphSdl);
  if (cached) return cached;
  const directives: CostDirectives = { weights: new Map(), listSizes: new Map() };
  for (const definition of parse(supergraphSdl).definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      const key = `${definition.name.value}.${field.name.value}`;
      for (const directive of field.directives ?? []) {
        const args = Object.fromEntries(
          (directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]),
        );
        if (directive.name.value === 'cost' && typeof args.weight === 'number') {
          directives.weights.set(key, args.weight);
        } else if (directive.name.value === 'listSize') {
          directives.listSizes.set(key, {
            ...(typeof args.assumedSize === 'number' ? { assumedSize: args.assumedSize } : {}),
            ...(Array.isArray(args.slicingArguments)
              ? { slicingArguments: args.slicingArguments as string[] }
              : {}),
            ...(Array.isArray(args.sizedFields) ? { sizedFields: args.sizedFields as string[] } : {}),
          });
        }
      }
    }
  }
  if (fromSdlCache.size > 8) fromSdlCache.clear();
  fromSdlCache.set(supergraphSdl, directives);
  return directives;
}

export interface CostOptions {
  /** @default DEFAULT_LIST_SIZE */
  defaultListSize?: number;
}

/**
 * The estimated cost of one operation of `document` (the named one, or the only
 * one). Linear in the document's size: a fragment's cost is computed once per size
 * it is spread with.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  directives: CostDirectives,
  options: CostOptions = {},
): number {
  const defaultListSize = options.defaultListSize ?? DEFAULT_LIST_SIZE;
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    else if (d.kind === Kind.OPERATION_DEFINITION) operations.push(d);
  }
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return 0;
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const defaults = new Map<string, unknown>();
  for (const v of operation.variableDefinitions ?? []) {
    if (v.defaultValue) defaults.set(v.variable.name.value, valueFromASTUntyped(v.defaultValue));
  }
  const argumentValue = (node: ValueNode): unknown => {
    if (node.kind === Kind.VARIABLE) {
      const name = node.name.value;
      return variables && name in variables ? variables[name] : defaults.get(name);
    }
    return valueFromASTUntyped(node);
  };

  const fragmentCosts = new Map<string, number>();
  const visiting = new Set<string>();

  const listSizeOf = (node: FieldNode, field: GraphQLField<unknown, unknown>, spec: ListSize | undefined) => {
    let size: number | undefined;
    for (const name of spec?.slicingArguments ?? []) {
      const given = node.arguments?.find((a) => a.name.value === name);
      // A variable the client left out falls back to the argument's default, as in execution.
      const value =
        (given ? argumentValue(given.value) : undefined) ??
        field.args.find((a) => a.name === name)?.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value)) size = Math.max(size ?? 0, value);
    }
    return Math.max(0, size ?? spec?.assumedSize ?? defaultListSize);
  };

  const selectionSetCost = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    sized: ReadonlyMap<string, number> | undefined,
  ): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total += fieldCost(selection, parent, sized);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) total += selectionSetCost(selection.selectionSet, type, sized);
      } else {
        total += fragmentCost(selection.name.value, sized);
      }
    }
    return total;
  };

  const fragmentCost = (name: string, sized: ReadonlyMap<string, number> | undefined): number => {
    const fragment = fragments.get(name);
    if (!fragment || visiting.has(name)) return 0; // unknown or cyclic: validation reports it
    const type = schema.getType(fragment.typeCondition.name.value);
    if (!type || !isCompositeType(type)) return 0;
    const key = sized ? undefined : name;
    const known = key ? fragmentCosts.get(key) : undefined;
    if (known !== undefined) return known;
    visiting.add(name);
    const cost = selectionSetCost(fragment.selectionSet, type, sized);
    visiting.delete(name);
    if (key) fragmentCosts.set(key, cost);
    return cost;
  };

  const fieldCost = (
    node: FieldNode,
    parent: GraphQLCompositeType,
    sized: ReadonlyMap<string, number> | undefined,
  ): number => {
    if (node.name.value.startsWith('__')) return 0;
    const fields = 'getFields' in parent ? parent.getFields() : {};
    const field = fields[node.name.value];
    if (!field) return 0;
    const key = `${parent.name}.${field.name}`;
    const named = getNamedType(field.type);
    const typeCost = isCompositeType(named) ? 1 : 0;
    // A field's own @cost is the work of resolving it, paid once, not per item.
    const explicit = directives.weights.get(key);
    const extra = parent === schema.getMutationType() ? MUTATION_WEIGHT : 0;
    const spec = directives.listSizes.get(key);
    let childSized: Map<string, number> | undefined;
    if (spec?.sizedFields?.length) {
      const size = listSizeOf(node, field, spec);
      childSized = new Map(spec.sizedFields.map((f) => [f, size]));
    }
    const children =
      node.selectionSet && isCompositeType(named)
        ? selectionSetCost(node.selectionSet, named, childSized)
        : 0;
    const unwrapped = isNonNullType(field.type) ? field.type.ofType : field.type;
    if (!isListType(unwrapped)) return (explicit ?? typeCost) + extra + children;
    const size = sized?.get(field.name) ?? listSizeOf(node, field, spec);
    return (explicit ?? 0) + extra + size * (typeCost + children);
  };

  return selectionSetCost(operation.selectionSet, root, undefined);
}

export interface DemandControlOptions {
  /** Operations estimated above this are refused. */
  maxCost: number;
  /** `enforce` refuses; `measure` only logs and counts, for rollout. */
  mode: 'enforce' | 'measure';
  defaultListSize?: number;
  onEstimate?: (cost: number, refused: boolean) => void;
  onOverLimit?: (details: {
    cost: number;
    maxCost: number;
    operationName: string | undefined;
    /** The request's id, for its log line (a subscription's: the subscribing request's). */
    requestId?: string | undefined;
  }) => void;
}

/** The refusal: in milliseconds, before planning, with the estimate for the client. */
export function costError(cost: number, maxCost: number): GraphQLError {
  return new GraphQLError(
    `The operation's estimated cost (${cost}) is over the limit of ${maxCost}. Ask for fewer items (first), fewer aliases, or less nesting.`,
    {
      extensions: {
        code: 'COST_ESTIMATED_TOO_EXPENSIVE',
        cost: { estimated: cost, max: maxCost },
        http: { status: 400 },
      },
    },
  );
}

const ESTIMATES_PER_DOCUMENT = 16;

/**
 * Demand control for one router: the directives follow the supergraph, `check`
 * serves every transport (an Apollo Server plugin for HTTP and graphql-ws queries,
 * the subscription engine for subscriptions).
 */
export class DemandControl {
  private directives: CostDirectives = { weights: new Map(), listSizes: new Map() };

  /** Estimates per parsed document (Apollo Server reuses it for the same text), by operation and variables. */
  private estimates = new WeakMap<DocumentNode, Map<string, number>>();
  private estimatesSchema: GraphQLSchema | undefined;

  constructor(readonly options: DemandControlOptions) {}

  updateSupergraph(supergraphSdl: string): void {
    this.directives = costDirectivesOf(supergraphSdl);
    this.estimates = new WeakMap();
  }

  /** The estimate of one operation with these variables, computed once. */
  private estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | null | undefined,
  ): number {
    if (this.estimatesSchema !== schema) {
      this.estimates = new WeakMap();
      this.estimatesSchema = schema;
    }
    const key = `${operationName ?? ''}\u0000${variables ? JSON.stringify(variables) : ''}`;
    let byKey = this.estimates.get(document);
    const known = byKey?.get(key);
    if (known !== undefined) return known;
    const cost = estimateCost(schema, document, operationName, variables, this.directives, {
      ...(this.options.defaultListSize ? { defaultListSize: this.options.defaultListSize } : {}),
    });
    if (!byKey) {
      byKey = new Map();
      this.estimates.set(document, byKey);
    }
    // Variables vary per request (ids, pages): keep the last few of each document.
    if (byKey.size >= ESTIMATES_PER_DOCUMENT) byKey.delete(byKey.keys().next().value as string);
    byKey.set(key, cost);
    return cost;
  }

  /** The estimate, or a thrown COST_ESTIMATED_TOO_EXPENSIVE when it is over the limit (enforce mode). */
  check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | null | undefined,
    requestId?: string,
  ): number {
    const cost = this.estimate(schema, document, operationName, variables);
    const over = cost > this.options.maxCost;
    this.options.onEstimate?.(cost, over && this.options.mode === 'enforce');
    if (over) {
      this.options.onOverLimit?.({
        cost,
        maxCost: this.options.maxCost,
        operationName: operationName ?? undefined,
        ...(requestId ? { requestId } : {}),
      });
      if (this.options.mode === 'enforce') throw costError(cost, this.options.maxCost);
    }
    return cost;
  }

  plugin(): ApolloServerPlugin {
    return {
      requestDidStart: async () => ({
        // After parsing and validation, before the gateway plans.
        didResolveOperation: async (context) => {
          this.check(
            context.schema,
            context.document,
            context.operationName,
            context.request.variables,
            (context.contextValue as { requestId?: string }).requestId,
          );
        },
      }),
    };
  }
}
