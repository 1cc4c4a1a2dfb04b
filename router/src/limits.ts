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
