import { operationFromDocument, type Schema, Supergraph } from '@apollo/federation-internals';
import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import { QueryPlanner } from '@apollo/query-planner';
import { SELF_ONLY_DIRECTIVE } from '@fitness/server-kit';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { SupergraphTypes } from '../executor/planExecutor.js';

/** How one client subscription is executed: the primary fetch and what follows it. */
export interface SubscriptionPlan {
  primary: FetchNode;
  /** The plan node run once per event after the primary data is in; none when one subgraph serves everything. */
  rest: PlanNode | undefined;
  /** The whole plan per event: `Sequence[primary, rest]`. */
  perEvent: QueryPlan;
}

/**
 * Everything derived from one supergraph that the subscription engine needs: the
 * federation query planner, the API and supergraph schemas, and subgraph URLs.
 * Built again on every supergraph update.
 */
export class SchemaState {
  readonly supergraph: Supergraph;
  readonly planner: QueryPlanner;
  readonly apiSchema: Schema;
  readonly supergraphSchema: GraphQLSchema;
  readonly subgraphUrls: Map<string, string>;
  /** `Type.field` of every field the supergraph marks `@selfOnly`, and of the interface fields they implement. */
  readonly selfOnlyFields: Set<string>;
  /** Type tests of the router's executor against this supergraph. */
  readonly types: SupergraphTypes;

  constructor(
    readonly supergraphSdl: string,
    /** graphql-js view of the API schema (what clients validate against). */
    readonly apiGraphQLSchema: GraphQLSchema,
  ) {
    this.supergraph = Supergraph.build(supergraphSdl);
    this.planner = new QueryPlanner(this.supergraph);
    this.apiSchema = this.supergraph.apiSchema();
    this.supergraphSchema = this.supergraph.schema.toGraphQLJSSchema();
    this.subgraphUrls = new Map(
      this.supergraph
        .subgraphs()
        .values()
        .map((s) => [s.name, s.url] as const),
    );
    this.selfOnlyFields = selfOnlyFields(this.supergraph.schema);
    this.types = new SupergraphTypes(this.supergraphSchema);
  }

  plan(document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const operation = operationFromDocument(this.apiSchema, document, { operationName });
    const plan = this.planner.buildQueryPlan(operation);
    const node = plan.node;
    if (!node) throw new Error('The subscription has no plan.');
    if (node.kind === 'Fetch') {
      return { primary: node, rest: undefined, perEvent: { kind: 'QueryPlan', node } };
    }
    if (node.kind !== 'Subscription') throw new Error(`Expected a subscription plan, got ${node.kind}.`);
    return {
      primary: node.primary,
      rest: node.rest,
      perEvent: {
        kind: 'QueryPlan',
        node: node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary,
      },
    };
  }

  /**
   * Whether the result depends on who asks: true when the operation selects a field
   * the supergraph marks `@selfOnly` (descriptions do not count). Such subscriptions are executed per user;
   * all others are shared by every subscriber and run without anyone's credentials.
   */
  isViewerDependent(document: DocumentNode, operation: OperationDefinitionNode): boolean {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions)
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const root = this.apiGraphQLSchema.getSubscriptionType();
    if (!root) return false;
    const seen = new Set<string>();
    const visit = (type: GraphQLCompositeType, selections: SelectionSetNode): boolean => {
      for (const selection of selections.selections) {
        if (selection.kind === Kind.FIELD) {
          if (!isObjectType(type) && !isInterfaceType(type)) continue;
          const field = type.getFields()[selection.name.value];
          if (!field) continue;
          if (this.selfOnlyFields.has(`${type.name}.${field.name}`)) return true;
          const named = getNamedType(field.type);
          if (selection.selectionSet && (isObjectType(named) || isInterfaceType(named))) {
            if (visit(named, selection.selectionSet)) return true;
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const cond = selection.typeCondition
            ? (this.apiGraphQLSchema.getType(selection.typeCondition.name.value) as
                | GraphQLCompositeType
                | undefined)
            : type;
          if (cond && visit(cond, selection.selectionSet)) return true;
        } else {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || seen.has(fragment.name.value)) continue;
          seen.add(fragment.name.value);
          const cond = this.apiGraphQLSchema.getType(fragment.typeCondition.name.value) as
            | GraphQLCompositeType
            | undefined;
          if (cond && visit(cond, fragment.selectionSet)) return true;
        }
      }
      return false;
    };
    return visit(root, operation.selectionSet);
  }
}

/**
 * Read from the supergraph, not the API schema: the API schema drops composed custom
 * directives. An interface field counts when any implementation is self only, since
 * the subscription may resolve to that one.
 */
function selfOnlyFields(schema: Schema): Set<string> {
  const found = new Set<string>();
  for (const type of schema.objectTypes()) {
    for (const field of type.fields()) {
      if (!field.appliedDirectives.some((d) => d.name === SELF_ONLY_DIRECTIVE)) continue;
      found.add(`${type.name}.${field.name}`);
      for (const iface of type.interfaces()) found.add(`${iface.name}.${field.name}`);
    }
  }
  return found;
}
