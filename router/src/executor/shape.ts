import {
  type CompositeType,
  ERRORS,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  isValidLeafValue,
  type NamedType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
  typenameFieldName,
  Variable,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';

/**
 * The client's response, shaped from the data the fetches merged: the fields the
 * operation selects, in its order, with aliases, `__typename`, `@skip`/`@include`,
 * fragments by runtime type, and null propagation with the spec's errors. It follows
 * @apollo/gateway's computeResponse step for step (the same messages, paths and
 * asserts), but the operation is walked once per operation, when its plan is made,
 * into the tree below; a request only runs that tree.
 */
export interface Shaper {
  /** `data` for the client, and the value-completion errors (non-null fields that came back null, bad values). */
  shape(input: Record<string, unknown>, variables: Record<string, unknown> | undefined): ShapeResult;
}

export interface ShapeResult {
  data: Record<string, unknown> | null;
  errors: GraphQLError[];
}

/** `@skip(if:)` / `@include(if:)` of one selection: a constant or a variable's name. */
interface Condition {
  skip: boolean;
  value: boolean | string;
}

interface FieldItem {
  field: true;
  responseName: string;
  conditions: Condition[] | undefined;
  isTypename: boolean;
  value: ValueShape;
}

interface FragmentItem {
  field: false;
  conditions: Condition[] | undefined;
  typeCondition: CompositeType | undefined;
  set: CompiledSet;
  /** Whether the type condition holds, by runtime `__typename` (or parent type when there is none). */
  applies: Map<string, boolean>;
}

type Item = FieldItem | FragmentItem;

interface CompiledSet {
  items: Item[];
}

/** How one field's value is completed; `leafy` when the field has no selection set (then a value already there stays). */
type ValueShape = { leafy: boolean } & (
  | { kind: 'nonNull'; type: Type; ofType: Type; inner: ValueShape }
  | { kind: 'list'; type: Type; inner: ValueShape }
  | { kind: 'composite'; type: CompositeType; set: CompiledSet }
  | { kind: 'leaf'; type: Type }
);

/** What one request's shaping carries along. */
interface Run {
  schema: Schema;
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  path: (string | number)[];
}

const BUBBLE = true;

function conditionsOf(
  element: {
    appliedDirectivesOf(d: unknown): readonly { arguments(): Record<string, unknown> }[];
  },
  schema: Schema,
): Condition[] | undefined {
  const found: Condition[] = [];
  for (const [directive, skip] of [
    [schema.skipDirective(), true],
    [schema.includeDirective(), false],
  ] as const) {
    const applied = element.appliedDirectivesOf(directive)[0];
    if (!applied) continue;
    const argument = applied.arguments().if;
    found.push({ skip, value: argument instanceof Variable ? argument.name : Boolean(argument) });
  }
  return found.length ? found : undefined;
}

function compileSet(selectionSet: SelectionSet, schema: Schema): CompiledSet {
  const items: Item[] = [];
  for (const selection of selectionSet.selections()) {
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      if (field.definition.isSchemaIntrospectionField()) {
        throw new Error('Introspection fields are answered by the gateway executor.');
      }
      items.push({
        field: true,
        responseName: field.responseName(),
        conditions: conditionsOf(field as never, schema),
        isTypename: field.name === typenameFieldName,
        value: compileValue(field.definition.type!, selection.selectionSet, schema),
      });
    } else {
      const fragment = selection.element;
      items.push({
        field: false,
        conditions: conditionsOf(fragment as never, schema),
        typeCondition: fragment.typeCondition,
        set: compileSet(selection.selectionSet, schema),
        applies: new Map(),
      });
    }
  }
  return { items };
}

function compileValue(type: Type, selectionSet: SelectionSet | undefined, schema: Schema): ValueShape {
  const leafy = !selectionSet;
  if (isNonNullType(type)) {
    const inner = compileValue(type.ofType, selectionSet, schema);
    return { leafy, kind: 'nonNull', type, ofType: type.ofType, inner };
  }
  if (isListType(type))
    return { leafy, kind: 'list', type, inner: compileValue(type.ofType, selectionSet, schema) };
  if (isCompositeType(type)) {
    if (!selectionSet) throw new Error(`Invalid empty selection set for composite type ${type}`);
    return { leafy, kind: 'composite', type, set: compileSet(selectionSet, schema) };
  }
  return { leafy, kind: 'leaf', type };
}

/** Whether the operation selects `__schema` or `__type` anywhere (the gateway's executor answers those). */
export function hasIntrospection(operation: Operation): boolean {
  const visit = (set: SelectionSet): boolean =>
    set
      .selections()
      .some((s) =>
        s.kind === 'FieldSelection'
          ? s.element.definition.isSchemaIntrospectionField() ||
            (s.selectionSet ? visit(s.selectionSet) : false)
          : visit(s.selectionSet),
      );
  return visit(operation.selectionSet);
}

function skipped(conditions: Condition[], variables: Record<string, unknown>): boolean {
  for (const c of conditions) {
    let value: unknown = c.value;
    if (typeof value === 'string') {
      value = variables[value];
      if (value === undefined || typeof value !== 'boolean') {
        throw new Error(`Unexpected value ${value} for variable $${c.value}`);
      }
    }
    if (c.skip ? value : !value) return true;
  }
  return false;
}

function typeConditionApplies(
  run: Run,
  item: FragmentItem,
  typename: string | undefined,
  parentType: CompositeType,
): boolean {
  const condition = item.typeCondition;
  if (!condition) return true;
  const key = typename ?? `\u0000${parentType.name}`;
  let applies = item.applies.get(key);
  if (applies === undefined) {
    if (typename) {
      const type = run.schema.type(typename);
      applies = !!type && isSubtype(condition, type);
    } else {
      applies = isSubtype(condition, parentType);
    }
    item.applies.set(key, applies);
  }
  return applies;
}

function lastElementDescription(path: (string | number)[], currentType: Type, parentType: NamedType): string {
  const element = path[path.length - 1];
  return typeof element === 'string'
    ? `field ${parentType}.${element}`
    : `array element of type ${currentType} at index ${element}`;
}

/** Fills `output` from `input` for one selection set; true when a null must bubble up to the parent. */
function applySet(
  run: Run,
  set: CompiledSet,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
  parentType: CompositeType,
): boolean {
  for (const item of set.items) {
    if (item.conditions && skipped(item.conditions, run.variables)) continue;
    if (item.field) {
      const name = item.responseName;
      const outputValue = output[name];
      let inputValue = (Object.hasOwn(input, name) ? input[name] : undefined) ?? null;
      if (item.isTypename) {
        if (outputValue === undefined) {
          if (inputValue === null && name !== typenameFieldName) {
            inputValue = input[typenameFieldName] ?? null;
          }
          const type =
            inputValue !== null && typeof inputValue === 'string'
              ? (run.schema.type(inputValue) ?? parentType)
              : parentType;
          if (!isObjectType(type)) return BUBBLE;
          output[name] = type.name;
        }
        continue;
      }
      run.path.push(name);
      const updated = update(run, item.value, outputValue, inputValue, parentType);
      output[name] = updated.value;
      run.path.pop();
      if (updated.invalid) return BUBBLE;
    } else {
      const typename = input[typenameFieldName];
      if (typename && typeof typename !== 'string') {
        throw new Error(`Got unexpected value for __typename: ${typename}`);
      }
      if (typeConditionApplies(run, item, typename as string | undefined, parentType)) {
        if (applySet(run, item.set, input, output, item.typeCondition ?? parentType)) return BUBBLE;
      }
    }
  }
  return false;
}

interface Updated {
  value: unknown;
  invalid: boolean;
  hasErrors: boolean;
}

const KEPT_NULL: Updated = Object.freeze({ value: null, invalid: false, hasErrors: false }) as Updated;

function kept(value: unknown): Updated {
  return value === null ? KEPT_NULL : { value, invalid: false, hasErrors: false };
}

function update(
  run: Run,
  shape: ValueShape,
  outputValue: unknown,
  inputValue: unknown,
  parentType: CompositeType,
): Updated {
  if (outputValue === null || (outputValue !== undefined && shape.leafy)) return kept(outputValue);
  switch (shape.kind) {
    case 'nonNull': {
      const inner = update(run, shape.inner, outputValue, inputValue, parentType);
      if (inner.value === null) {
        if (!inner.hasErrors) {
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Cannot return null for non-nullable ${lastElementDescription(run.path, shape.ofType, parentType)}.`,
              { path: Array.from(run.path) },
            ),
          );
        }
        return { value: null, invalid: true, hasErrors: true };
      }
      return kept(inner.value);
    }
    case 'list': {
      if (inputValue === null) return KEPT_NULL;
      if (!Array.isArray(inputValue)) {
        throw new Error(
          `Invalid non-list value ${inputValue} returned by subgraph for list type ${shape.type}`,
        );
      }
      if (outputValue !== undefined && !Array.isArray(outputValue)) {
        throw new Error(
          `Invalid non-list value ${outputValue} returned by subgraph for list type ${shape.type}`,
        );
      }
      const existing = outputValue as unknown[] | undefined;
      if (existing && existing.length !== inputValue.length) {
        throw new Error(
          `[${inputValue}].length (${inputValue.length}) !== [${existing}].length (${existing.length})`,
        );
      }
      const out = existing ?? new Array<unknown>(inputValue.length);
      let nullify = false;
      let hasErrors = false;
      for (let i = 0; i < inputValue.length; i += 1) {
        run.path.push(i);
        const element = update(run, shape.inner, existing?.[i], inputValue[i], parentType);
        run.path.pop();
        if (element.invalid) nullify = true;
        if (element.hasErrors) hasErrors = true;
        out[i] = element.value;
      }
      return { value: nullify ? null : out, invalid: false, hasErrors };
    }
    case 'composite': {
      if (inputValue === null) return KEPT_NULL;
      if (typeof inputValue !== 'object') {
        throw new Error(
          `Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.type}`,
        );
      }
      if (outputValue !== undefined && typeof outputValue !== 'object') {
        throw new Error(
          `Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.type}`,
        );
      }
      const object = inputValue as Record<string, unknown>;
      const typename = object[typenameFieldName];
      if (typename !== undefined && typeof typename !== 'string') {
        throw new Error(`Invalid non-string value ${typename} for __typename at ${run.path}`);
      }
      let objectType: CompositeType = shape.type;
      if (typename) {
        const named = run.schema.type(typename);
        if (!named || !isCompositeType(named)) {
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Invalid __typename found for object at ${lastElementDescription(run.path, shape.type, parentType)}.`,
              { path: Array.from(run.path) },
            ),
          );
          return { value: null, invalid: false, hasErrors: true };
        }
        objectType = named;
      }
      const out = (outputValue as Record<string, unknown> | undefined) ?? Object.create(null);
      const bubbled = applySet(run, shape.set, object, out, objectType);
      return { value: bubbled ? null : out, invalid: false, hasErrors: bubbled };
    }
    case 'leaf': {
      if (inputValue === null) return KEPT_NULL;
      const valid = isValidLeafValue(run.schema, inputValue, shape.type as never);
      if (!valid) {
        run.errors.push(
          ERRORS.INVALID_GRAPHQL.err(
            `Invalid value found for ${lastElementDescription(run.path, shape.type, parentType)}.`,
            { path: Array.from(run.path) },
          ),
        );
        return { value: null, invalid: false, hasErrors: true };
      }
      return kept(inputValue);
    }
  }
}

/** Compiles the shaping of one operation (its fragments expanded as the gateway reads them). */
export function compileShaper(operation: Operation): Shaper {
  const schema = operation.schema();
  const root = schema.schemaDefinition.rootType(operation.rootKind)!;
  const set = compileSet(operation.selectionSet, schema);
  const defaults = operation.collectDefaultedVariableValues();
  return {
    shape(input, variables) {
      const run: Run = {
        schema,
        variables: { __proto__: null, ...defaults, ...variables } as Record<string, unknown>,
        errors: [],
        path: [],
      };
      const data = Object.create(null) as Record<string, unknown>;
      const bubbled = applySet(run, set, input, data, root);
      return { data: bubbled ? null : data, errors: run.errors };
    },
  };
}
