import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export interface OperationLimits {
  /** Deepest nesting of selection sets, fragments expanded. @default 15 */
  maxDepth: number;
  /** Aliased fields in one document; aliases multiply work cheaply. @default 30 */
  maxAliases: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = { maxDepth: 15, maxAliases: 30 };

/**
 * Depth of a selection set, fragments expanded. Each fragment's depth is computed
 * once (a document that spreads one fragment many times, or in a doubling chain,
 * costs linear time, not exponential), and the walk stops as soon as the limit is
 * passed.
 */
function depthOf(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  known: Map<string, number>,
  visiting: Set<string>,
  limit: number,
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      depth = selection.selectionSet
        ? 1 + depthOf(selection.selectionSet, fragments, known, visiting, limit - 1)
        : 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, fragments, known, visiting, limit);
    } else {
      const name = selection.name.value;
      const cached = known.get(name);
      if (cached !== undefined) {
        depth = cached;
      } else {
        const fragment = fragments.get(name);
        // A cycle is reported by graphql-js's own NoFragmentCycles rule.
        if (!fragment || visiting.has(name)) continue;
        visiting.add(name);
        depth = depthOf(fragment.selectionSet, fragments, known, visiting, limit);
        visiting.delete(name);
        // A result over the limit may be cut short: only complete ones are reused.
        if (depth <= limit) known.set(name, depth);
      }
    }
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
  }
  return deepest;
}

/**
 * Validation rules that bound what one document may ask for, so a single cheap
 * request cannot fan out into a huge plan: nesting depth and alias count. They run
 * with graphql-js's own rules, before planning, on HTTP and WebSocket alike.
 */
export function operationLimitRules(limits: OperationLimits = DEFAULT_OPERATION_LIMITS) {
  const depthRule = (context: ValidationContext): ASTVisitor => ({
    Document(document) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const d of document.definitions)
        if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
      for (const d of document.definitions) {
        if (d.kind !== Kind.OPERATION_DEFINITION) continue;
        const depth = depthOf(d.selectionSet, fragments, new Map(), new Set(), limits.maxDepth);
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(`The operation is nested more than ${limits.maxDepth} levels deep.`, {
              nodes: [d],
            }),
          );
        }
      }
    },
  });
  const aliasRule = (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases += 1;
      },
      Document: {
        leave(document) {
          if (aliases > limits.maxAliases) {
            context.reportError(
              new GraphQLError(
                `The document uses ${aliases} aliases; at most ${limits.maxAliases} are allowed.`,
                {
                  nodes: [document],
                },
              ),
            );
          }
        },
      },
    };
  };
  return [depthRule, aliasRule];
}

/**
 * Brackets a document may nest before it is parsed at all. graphql-js parses by
 * recursion, so a few thousand `{` (or `[` in a value) overflow the stack; a valid
 * operation is at most MAX_QUERY_DEPTH selections deep, so this is far above any.
 * @default 100
 */
export const MAX_DOCUMENT_NESTING = 100;

/**
 * Whether a document's brackets nest deeper than `limit`, read as GraphQL's lexer
 * would (strings, block strings and comments skipped), in one pass without recursion.
 */
export function nestsDeeperThan(source: string, limit = MAX_DOCUMENT_NESTING): boolean {
  // Clients send the same few documents again and again: scan each once (documents
  // of ordinary size only, so the memo stays within 1,000 x 20,000 characters).
  if (limit === MAX_DOCUMENT_NESTING && source.length <= SCANNED_MAX_LENGTH) {
    const known = scanned.get(source);
    if (known !== undefined) return known;
    const verdict = scanNesting(source, limit);
    if (scanned.size >= SCANNED_LIMIT) scanned.delete(scanned.keys().next().value as string);
    scanned.set(source, verdict);
    return verdict;
  }
  return scanNesting(source, limit);
}

const scanned = new Map<string, boolean>();
const SCANNED_LIMIT = 1_000;
const SCANNED_MAX_LENGTH = 20_000;

function scanNesting(source: string, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < source.length; i += 1) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i += 1;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        // A block string ends at the first """ that is not escaped as \""".
        let from = i + 3;
        for (;;) {
          const end = source.indexOf('"""', from);
          if (end === -1) {
            i = source.length;
            break;
          }
          if (source.charCodeAt(end - 1) === 0x5c) {
            from = end + 3;
            continue;
          }
          i = end + 2;
          break;
        }
      } else {
        for (i += 1; i < source.length; i += 1) {
          const s = source.charCodeAt(i);
          if (s === 0x5c /* \ */) i += 1;
          else if (s === 0x22 || s === 0x0a) break;
        }
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28 /* { [ ( */) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d || c === 0x29 /* } ] ) */) {
      depth -= 1;
    }
  }
  return false;
}

/** The refusal for such a document: a bad request, with no engine message in it. */
export function tooDeeplyNested(): GraphQLError {
  return new GraphQLError(`The document nests more than ${MAX_DOCUMENT_NESTING} brackets deep.`, {
    extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
  });
}
