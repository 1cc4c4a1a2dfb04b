import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { describe, expect, it } from 'vitest';
import { joinRootFetches } from '../src/executor/joining.js';

/** A fetch node as the planner writes one; `entity` ones take representations. */
function fetchNode(serviceName: string, operation: string, entity = false): FetchNode {
  return {
    kind: 'Fetch',
    serviceName,
    operation,
    operationKind: 'query',
    variableUsages: [],
    ...(entity
      ? {
          requires: [
            {
              kind: 'InlineFragment',
              typeCondition: 'User',
              selections: [{ kind: 'Field', name: 'id' }],
            },
          ],
        }
      : {}),
  } as unknown as FetchNode;
}

/** An entity fetch of User fields: `selection` inside `_entities`, then `fragments`. */
const userFetch = (serviceName: string, selection: string, fragments = '') =>
  fetchNode(
    serviceName,
    `query($representations:[_Any!]!){_entities(representations:$representations){${selection}}}${fragments}`,
    true,
  );

const ME = fetchNode('users', '{ me { __typename id } }');
const flatten = (fetch: FetchNode): PlanNode => ({ kind: 'Flatten', path: ['me'], node: fetch });

/** The Dashboard's shape: `me` then its payments field, beside payments' own root field. */
function dashboard(isPremium: FetchNode, plans: FetchNode): PlanNode {
  return {
    kind: 'Parallel',
    nodes: [{ kind: 'Sequence', nodes: [ME, flatten(isPremium)] }, plans],
  };
}

describe('joinRootFetches', () => {
  it('should move a root fetch beside the entity fetch to its subgraph one step later in a sibling branch', () => {
    const isPremium = userFetch('payments', '...on User{isPremium}');
    const plans = fetchNode('payments', '{ plans { id name } }');
    expect(joinRootFetches(dashboard(isPremium, plans))).toEqual({
      kind: 'Sequence',
      nodes: [ME, { kind: 'Parallel', nodes: [flatten(isPremium), plans] }],
    });
  });

  it('should leave a root fetch where it is when fetch merging would not take it with that fetch', () => {
    // One fragment name, two meanings: the two cannot go in one request, so waiting gains nothing.
    const isPremium = userFetch('payments', '...P', ' fragment P on User{isPremium}');
    const plans = fetchNode('payments', '{ plans { ...P } } fragment P on Plan { id name }');
    const plan = dashboard(isPremium, plans);
    expect(joinRootFetches(plan)).toBe(plan);
  });

  it('should leave a root fetch where it is when the later step asks another subgraph', () => {
    const plan = dashboard(
      userFetch('workouts', '...on User{streak}'),
      fetchNode('payments', '{ plans { id } }'),
    );
    expect(joinRootFetches(plan)).toBe(plan);
  });
});
