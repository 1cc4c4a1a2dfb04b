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

function depthOf(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      depth = selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, visiting) : 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, fragments, visiting);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      // A cycle is reported by graphql-js's own NoFragmentCycles rule.
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      depth = depthOf(fragment.selectionSet, fragments, visiting);
      visiting.delete(name);
    }
    if (depth > deepest) deepest = depth;
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
        const depth = depthOf(d.selectionSet, fragments, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `The operation is nested ${depth} levels deep; at most ${limits.maxDepth} are allowed.`,
              {
                nodes: [d],
              },
            ),
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
