import { DEVELOPMENT_ROUTER_SECRET } from '@fitness/server-kit';

export { ROUTER_SECRET_HEADER } from '@fitness/server-kit';

let current = DEVELOPMENT_ROUTER_SECRET;

/**
 * Installs ROUTER_SUBGRAPH_SECRET for every subgraph request of this process, HTTP
 * and graphql-ws; loadConfig calls it. A process-wide value because the data
 * sources and upstream clients are built where the config is not passed on; one
 * router per process, so the last configuration loaded is the one served.
 */
export function useRouterSecret(secret: string): void {
  current = secret;
}

/** What the router sends subgraphs as ROUTER_SECRET_HEADER (and under that key in connectionParams). */
export function routerSecret(): string {
  return current;
}
