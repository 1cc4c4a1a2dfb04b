import type {
  FetchNode,
  FlattenNode,
  ParallelNode,
  PlanNode,
  QueryPlan,
  SequenceNode,
} from '@apollo/query-planner';
import { canMerge, isMergeable, isMergeableRootFetch } from './batching.js';

/**
 * Root fetches joined to a later fetch of the same subgraph, so that fetch merging
 * (batching.ts) sends both in one request. The planner starts every root fetch at
 * once, and the Dashboard's plan is typical:
 *
 *     Parallel { Sequence { users me, Parallel { ..., Flatten(me) payments isPremium } }, payments plans }
 *
 * `plans` goes to payments alone, in parallel with `me`, and payments is asked again
 * one step later. Moved beside that later fetch, it starts one subgraph round trip
 * later, in a branch that takes two round trips anyway, and the two reach payments
 * as one request: one subgraph request fewer for the router and for payments, the
 * answer unchanged, the request longer only by what the merged request takes over
 * the later one alone. A root fetch is joined only to a fetch in the SECOND step of a
 * sibling branch (what it waits for is one fetch, never a chain), only when fetch
 * merging would take it with every fetch to its subgraph in that step (else it
 * would wait for nothing), and it is still sent when that step has nothing to fetch
 * (`me` null, its subgraph down): then alone.
 *
 * Nothing depends on a root fetch of a Parallel node's children but what comes after
 * the Parallel, and the joined fetch is still inside it, so the plan's order holds.
 */

/** The fetch of a Flatten of an entity fetch to `serviceName`, which fetch merging takes. */
const entityFetchTo = (node: PlanNode, serviceName: string): FetchNode | undefined =>
  node.kind === 'Flatten' &&
  node.node.kind === 'Fetch' &&
  node.node.serviceName === serviceName &&
  node.node.requires &&
  isMergeable(node.node)
    ? node.node
    : undefined;

/**
 * Whether `step` is, or runs at once, an entity fetch to the subgraph of `root`, and
 * fetch merging would send `root` in one request with every fetch to it there.
 */
function joinsStep(step: PlanNode | undefined, root: FetchNode): boolean {
  if (!step) return false;
  const fetches = (step.kind === 'Parallel' ? step.nodes : [step]).flatMap(
    (n) => entityFetchTo(n, root.serviceName) ?? [],
  );
  return fetches.length > 0 && fetches.every((fetch) => canMerge(fetch, root));
}

/** `branch` with `fetch` run beside its second step. */
function joinedTo(branch: SequenceNode, fetch: FetchNode): SequenceNode {
  const [first, second, ...rest] = branch.nodes as [PlanNode, PlanNode, ...PlanNode[]];
  const beside: ParallelNode = {
    kind: 'Parallel',
    nodes: second.kind === 'Parallel' ? [...second.nodes, fetch] : [second as FlattenNode, fetch],
  };
  return { kind: 'Sequence', nodes: [first, beside, ...rest] };
}

/**
 * The plan node to execute for `node` (a query plan's root): the same plan, with each
 * root fetch of its top Parallel node that a sibling branch asks the same subgraph
 * again one step later moved beside that step. Plans without one come back as they are.
 */
export function joinRootFetches(node: QueryPlan['node']): QueryPlan['node'] {
  if (node?.kind !== 'Parallel') return node;
  let children = node.nodes;
  for (const child of node.nodes) {
    if (child.kind !== 'Fetch' || !isMergeableRootFetch(child)) continue;
    const at = children.findIndex(
      (branch) => branch.kind === 'Sequence' && branch.nodes.length >= 2 && joinsStep(branch.nodes[1], child),
    );
    if (at < 0) continue;
    children = children.flatMap((n, i) =>
      i === at ? [joinedTo(n as SequenceNode, child)] : n === child ? [] : [n],
    );
  }
  if (children === node.nodes) return node;
  return children.length === 1 ? children[0] : { kind: 'Parallel', nodes: children };
}
