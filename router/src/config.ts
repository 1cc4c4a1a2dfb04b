import { fileURLToPath } from 'node:url';
import { authEnv, checkedTokenSettings } from '@fitness/auth';
import {
  type ConfigChecks,
  optionalUrl,
  parseConfig,
  routerSecretEnv,
  routerSecretFrom,
  serviceEnv,
  serviceSettings,
  z,
} from '@fitness/server-kit';
import { parseTrustedProxies } from './clientAddress.js';

const DEFAULT_SUPERGRAPH = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));

const schema = z.object({
  /** NODE_ENV, HOST, PORT, LOG_LEVEL, LOG_FORMAT and the OTEL_* variables, as every service. */
  ...serviceEnv(4000),
  /**
   * Any supergraph file; the router reloads it when it changes. Unset: the committed
   * one, or with APOLLO_KEY and APOLLO_GRAPH_REF the graph's from Uplink.
   */
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  /**
   * Apollo Studio: the graph's API key (a secret, never logged or sent anywhere but
   * to Apollo's endpoints). With APOLLO_GRAPH_REF, usage reports go to Studio.
   */
  APOLLO_KEY: z.string().min(1).optional(),
  /** `graph-id@variant`, the graph the key belongs to. */
  APOLLO_GRAPH_REF: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, 'must be graph-id@variant')
    .optional(),
  /** Where usage reports go (its base URL). @default Apollo's */
  APOLLO_USAGE_REPORTING_ENDPOINT: optionalUrl(),
  /** Comma-separated Uplink URLs of managed federation. @default Apollo's */
  APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT: z.string().optional(),
  /** Comma-separated origins allowed by CORS, in addition to Apollo Studio in development. */
  CORS_ORIGINS: z.string().default(''),
  /** Largest request body, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_000_000),
  /** Per-subgraph request timeout, in milliseconds. */
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Deepest selection nesting an operation may have. */
  MAX_QUERY_DEPTH: z.coerce.number().int().min(2).default(15),
  /** Aliased fields one document may have. */
  MAX_QUERY_ALIASES: z.coerce.number().int().min(0).default(30),
  /** Active subscriptions this router process serves at most. */
  MAX_SUBSCRIPTIONS: z.coerce.number().int().positive().default(50_000),
  /** Open graphql-ws connections one client address may hold (see TRUSTED_PROXIES). */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().positive().default(100),
  /** Time a graphql-ws client has to send connection_init after opening the socket. */
  WS_CONNECTION_INIT_TIMEOUT_MS: z.coerce.number().int().positive().default(3_000),
  /**
   * A persisted query manifest (what `pnpm codegen` writes to
   * packages/client/src/__generated__/persisted-query-manifest.json): only its
   * operations are served. Unset: any operation.
   */
  OPERATION_SAFELIST: z.string().optional(),
  /**
   * Which executor runs query plans: `router` (the router's own), `gateway`
   * (@apollo/gateway's), or `compare` (both, the gateway's as the oracle on the same
   * subgraph answers; a difference is answered as an EXECUTOR_MISMATCH error; for tests).
   */
  ROUTER_EXECUTOR: z.enum(['router', 'gateway', 'compare']).default('router'),
  /** Sibling entity fetches of one operation to one subgraph go as one request (router executor). */
  SUBGRAPH_FETCH_MERGING: z.enum(['true', 'false']).default('true'),
  /**
   * Identical client queries in flight at once (same document, variables, token and
   * address) share one execution (router executor; never mutations). Off by default.
   */
  INBOUND_DEDUP: z.enum(['true', 'false']).default('false'),
  /** Identical subgraph queries in flight at once share one request (never mutations). */
  SUBGRAPH_DEDUP: z.enum(['true', 'false']).default('true'),
  /** Operations whose estimated cost is above this are refused (see README, "Limits"). */
  MAX_OPERATION_COST: z.coerce.number().int().positive().default(2_000),
  /** `enforce` refuses over-limit operations; `measure` only logs and counts them. */
  DEMAND_CONTROL_MODE: z.enum(['enforce', 'measure']).default('enforce'),
  /** Assumed size of a list whose size neither an argument nor @listSize tells. */
  DEMAND_CONTROL_LIST_SIZE: z.coerce.number().int().positive().default(10),
  /** Subscriptions one graphql-ws connection may hold. */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().positive().default(100),
  /** Reconnect attempts to a subgraph before its client streams end with an error. */
  SUBSCRIPTION_RETRY_ATTEMPTS: z.coerce.number().int().min(0).default(3),
  /** Unsent bytes on a socket above which new results wait (latest wins). */
  SUBSCRIPTION_HIGH_WATER_BYTES: z.coerce.number().int().positive().default(1_048_576),
  /** How long a client may stay over the high-water mark before it is closed. */
  SLOW_CONSUMER_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
  /** Keep-alive interval of HTTP subscription streams (multipart and SSE), in milliseconds. */
  SUBSCRIPTION_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5_000),
  /** Share upstream subscriptions and per-event work between subscribers (off only for benchmarks). */
  SUBSCRIPTION_SHARING: z.enum(['true', 'false']).default('true'),
  /** Serve Prometheus metrics on GET /metrics. */
  METRICS_ENABLED: z.enum(['true', 'false']).default('true'),
  /**
   * Comma-separated addresses or CIDR blocks of the proxies in front of the router;
   * only for a peer listed here is X-Forwarded-For believed. Default: none.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const { list, problems } = parseTrustedProxies(value);
      for (const message of problems) ctx.addIssue({ code: 'custom', message });
      return list;
    }),
  /**
   * The token revocation list shared with users and every subgraph; unset: in process,
   * fed by the events only (NATS_URL or the launcher's hub).
   */
  REDIS_URL: optionalUrl(),
  /** NATS JetStream: the router hears users.deleted and users.signed_out (token revocations). */
  NATS_URL: optionalUrl(),
  /** `ipc`: without NATS, the launcher's event hub (set by `pnpm start`, not by hand). */
  EVENT_HUB: z.enum(['ipc']).optional(),
  /** Sent to every subgraph, which answers nothing without it. */
  ...routerSecretEnv,
  ...authEnv,
});

export type RouterConfig = ReturnType<typeof loadConfig>;

const STUDIO = 'https://studio.apollographql.com';
// Any port on this machine: a frontend dev server (Vite's 5173, Next's 3000, ...).
const LOCAL_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'];

/** The only reader of process.env in the router. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  // ROUTER_EXECUTOR of the process also holds where a caller passes its own settings:
  // the test suites set ROUTER_EXECUTOR=compare once, for every router they start.
  const settings =
    env.ROUTER_EXECUTOR || !process.env.ROUTER_EXECUTOR
      ? env
      : { ...env, ROUTER_EXECUTOR: process.env.ROUTER_EXECUTOR };
  return parseConfig('router', schema, settings, (c, checks) => derive(c, checks, settings));
}

/** The rules that span variables, and the configuration the router reads. */
function derive(c: z.output<typeof schema>, checks: ConfigChecks, env: NodeJS.ProcessEnv) {
  const production = c.NODE_ENV === 'production';
  // SUBGRAPH_<NAME>_URL overrides the routing URL that the supergraph file gives.
  const subgraphUrls: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const match = /^SUBGRAPH_([A-Z0-9_]+)_URL$/.exec(key);
    if (match?.[1] && value) subgraphUrls[match[1].toLowerCase()] = value;
  }
  if (Boolean(c.APOLLO_KEY) !== Boolean(c.APOLLO_GRAPH_REF)) {
    checks.report(
      c.APOLLO_KEY ? 'APOLLO_GRAPH_REF' : 'APOLLO_KEY',
      'APOLLO_KEY and APOLLO_GRAPH_REF go together: set both to report to Apollo Studio, or neither',
    );
  }
  const uplinkEndpoints = (c.APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const endpoint of uplinkEndpoints) {
    if (!URL.canParse(endpoint))
      checks.report('APOLLO_SCHEMA_CONFIG_DELIVERY_ENDPOINT', `${endpoint} is not a URL`);
  }
  const studio =
    c.APOLLO_KEY && c.APOLLO_GRAPH_REF
      ? {
          key: c.APOLLO_KEY,
          graphRef: c.APOLLO_GRAPH_REF,
          usageReportingEndpoint: c.APOLLO_USAGE_REPORTING_ENDPOINT,
          // Managed federation unless a supergraph file is named.
          uplinkEndpoints: c.SUPERGRAPH_PATH ? undefined : uplinkEndpoints,
        }
      : undefined;
  const extraOrigins = c.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return {
    ...serviceSettings(c, checks.report),
    production,
    /** Undefined: the supergraph comes from Uplink (studio.uplinkEndpoints). */
    supergraphPath: c.SUPERGRAPH_PATH ?? (studio ? undefined : DEFAULT_SUPERGRAPH),
    /** Apollo Studio: usage reporting, and managed federation without a supergraph file. */
    studio,
    subgraphUrls,
    corsOrigins: production ? extraOrigins : [STUDIO, ...LOCAL_ORIGINS, ...extraOrigins],
    maxBodyBytes: c.MAX_BODY_BYTES,
    subgraphTimeoutMs: c.SUBGRAPH_TIMEOUT_MS,
    subgraphDedup: c.SUBGRAPH_DEDUP === 'true',
    executor: c.ROUTER_EXECUTOR,
    mergeFetches: c.SUBGRAPH_FETCH_MERGING === 'true',
    inboundDedup: c.INBOUND_DEDUP === 'true',
    operationLimits: { maxDepth: c.MAX_QUERY_DEPTH, maxAliases: c.MAX_QUERY_ALIASES },
    operationSafelist: c.OPERATION_SAFELIST || undefined,
    demandControl: {
      maxCost: c.MAX_OPERATION_COST,
      mode: c.DEMAND_CONTROL_MODE,
      defaultListSize: c.DEMAND_CONTROL_LIST_SIZE,
    },
    subscriptions: {
      maxSubscriptions: c.MAX_SUBSCRIPTIONS,
      maxSubscriptionsPerConnection: c.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxConnectionsPerAddress: c.WS_MAX_CONNECTIONS_PER_ADDRESS,
      connectionInitTimeoutMs: c.WS_CONNECTION_INIT_TIMEOUT_MS,
      retryAttempts: c.SUBSCRIPTION_RETRY_ATTEMPTS,
      slowConsumerTimeoutMs: c.SLOW_CONSUMER_TIMEOUT_MS,
      highWaterMarkBytes: c.SUBSCRIPTION_HIGH_WATER_BYTES,
      sharing: c.SUBSCRIPTION_SHARING === 'true',
      heartbeatMs: c.SUBSCRIPTION_HEARTBEAT_MS,
    },
    metricsEnabled: c.METRICS_ENABLED === 'true',
    trustedProxies: c.TRUSTED_PROXIES,
    routerSecret: routerSecretFrom(c, production, checks.report),
    tokens: checkedTokenSettings(c, production, checks),
    revocation: { redisUrl: c.REDIS_URL, natsUrl: c.NATS_URL, eventHub: c.EVENT_HUB },
  };
}
