import { type RouteHandler, sendJson } from './http.js';
import { assertFromRouter, routerSecretCheck } from './trustedHop.js';

/** Where a subgraph lists the user ids it holds data for; the accounts audit of users reads it. */
export const HELD_ACCOUNTS_PATH = '/accounts/held';

/**
 * `GET /accounts/held`: `{ "userIds": [...] }`, distinct and sorted, every user id
 * the subgraph holds data for. Behind the router secret like `/graphql` (the audit
 * presents it): the list names accounts, and only the operators' tools may read it.
 * One answer with every id: fine while the ids of a deployment fit in memory.
 */
export function heldAccountsRoute(
  routerSecret: string,
  heldUserIds: () => Promise<Iterable<string>>,
): Record<string, RouteHandler> {
  const fromRouter = routerSecretCheck(routerSecret);
  return {
    [`GET ${HELD_ACCOUNTS_PATH}`]: async (req, res) => {
      assertFromRouter(req.headers, fromRouter);
      const userIds = [...new Set(await heldUserIds())].sort();
      sendJson(res, 200, { userIds }, { 'cache-control': 'no-store' });
    },
  };
}
