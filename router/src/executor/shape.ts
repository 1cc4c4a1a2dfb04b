import {
  type CompositeType,
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
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
  | { kind: 'leaf'; type: Type; valid: (value: unknown) => boolean }
);

/** What one request's shaping carries along. */
interface Run {
  schema: Schema;
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  path: (string | number)[];
  /** Set by each `update` call: its value is a null that must bubble up. */
  invalid: boolean;
  /** Set by each `update` call: an error was recorded for its value or below. */
  hasErrors: boolean;
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
      // Output objects are plain objects, where this name would set the prototype.
      if (field.responseName() === '__proto__')
        throw new Error('The gateway executor answers "__proto__" aliases.');
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
  return { leafy, kind: 'leaf', type, valid: leafCheck(type, schema) };
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
      const outputValue = Object.hasOwn(output, name) ? output[name] : undefined;
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
      output[name] = update(run, item.value, outputValue, inputValue, parentType);
      run.path.pop();
      if (run.invalid) return BUBBLE;
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

/** Sets the flags `update` answers beside its value, and passes the value through. */
function flagged(run: Run, value: unknown, invalid: boolean, hasErrors: boolean): unknown {
  run.invalid = invalid;
  run.hasErrors = hasErrors;
  return value;
}

/**
 * The completed value of one field (or list element), as the gateway's
 * updateOutputValue computes it. Beside it, in `run.invalid` (a null that must bubble
 * to the parent) and `run.hasErrors` (an error was recorded below), read by the caller
 * right after the call: no result object per value.
 */
function update(
  run: Run,
  shape: ValueShape,
  outputValue: unknown,
  inputValue: unknown,
  parentType: CompositeType,
): unknown {
  if (outputValue === null || (outputValue !== undefined && shape.leafy)) {
    return flagged(run, outputValue, false, false);
  }
  switch (shape.kind) {
    case 'nonNull': {
      const value = update(run, shape.inner, outputValue, inputValue, parentType);
      if (value === null) {
        if (!run.hasErrors) {
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Cannot return null for non-nullable ${lastElementDescription(run.path, shape.ofType, parentType)}.`,
              { path: Array.from(run.path) },
            ),
          );
        }
        return flagged(run, null, true, true);
      }
      return flagged(run, value, false, false);
    }
    case 'list': {
      if (inputValue === null) return flagged(run, null, false, false);
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
        out[i] = update(run, shape.inner, existing?.[i], inputValue[i], parentType);
        run.path.pop();
        if (run.invalid) nullify = true;
        if (run.hasErrors) hasErrors = true;
      }
      return flagged(run, nullify ? null : out, false, hasErrors);
    }
    case 'composite': {
      if (inputValue === null) return flagged(run, null, false, false);
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
          return flagged(run, null, false, true);
        }
        objectType = named;
      }
      const out = (outputValue as Record<string, unknown> | undefined) ?? {};
      const bubbled = applySet(run, shape.set, object, out, objectType);
      return flagged(run, bubbled ? null : out, false, bubbled);
    }
    case 'leaf': {
      if (inputValue === null) return flagged(run, null, false, false);
      if (!shape.valid(inputValue)) {
        run.errors.push(
          ERRORS.INVALID_GRAPHQL.err(
            `Invalid value found for ${lastElementDescription(run.path, shape.type, parentType)}.`,
            { path: Array.from(run.path) },
          ),
        );
        return flagged(run, null, false, true);
      }
      return flagged(run, inputValue, false, false);
    }
  }
}

/**
 * federation's isValidLeafValue for one leaf type, decided once: custom scalars take
 * anything, Boolean a boolean, Int (and ID) an integer, Float a finite number, an
 * enum one of its values, String and ID a string.
 */
function leafCheck(type: Type, schema: Schema): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  const integer = (v: number) => Number.isFinite(v) && /^-?(?:0|[1-9][0-9]*)$/.test(String(v));
  if (type === schema.booleanType()) return (v) => typeof v === 'boolean';
  if (type === schema.intType()) return (v) => typeof v === 'number' && integer(v);
  if (type === schema.floatType()) return (v) => typeof v === 'number' && Number.isFinite(v);
  if (type === schema.idType()) return (v) => typeof v === 'string' || (typeof v === 'number' && integer(v));
  if (isEnumType(type)) return (v) => typeof v === 'string' && type.value(v) !== undefined;
  return (v) => typeof v === 'string';
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
        invalid: false,
        hasErrors: false,
      };
      const data: Record<string, unknown> = {};
      const bubbled = applySet(run, set, input, data, root);
      return { data: bubbled ? null : data, errors: run.errors };
    },
  };
}
