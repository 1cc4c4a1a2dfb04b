import {
  allowEmbeddedStores,
  logFormat,
  logLevel,
  nodeEnv,
  optionalUrl,
  port,
  type ReportProblem,
  refuseEmbeddedStores,
  z,
} from './config.js';
import type { LogFormat } from './prettyLog.js';
import { routerSecretEnv, routerSecretFrom } from './trustedHop.js';

/** Where a service listens and how it logs. */
export interface ServiceSettings {
  production: boolean;
  host: string;
  port: number;
  logLevel: string;
  logFormat: LogFormat;
}

/** The variables of ServiceSettings, which every service reads (the router too). */
export function serviceEnv(defaultPort: number) {
  return {
    NODE_ENV: nodeEnv(),
    HOST: z.string().default('127.0.0.1'),
    PORT: port(defaultPort),
    LOG_LEVEL: logLevel(),
    LOG_FORMAT: logFormat(),
  };
}

/** Reads serviceEnv's variables back. */
export function serviceSettings(c: z.output<z.ZodObject<ReturnType<typeof serviceEnv>>>): ServiceSettings {
  const production = c.NODE_ENV === 'production';
  return { production, host: c.HOST, port: c.PORT, logLevel: c.LOG_LEVEL, logFormat: c.LOG_FORMAT };
}

/** The part of a subgraph's configuration that runSubgraph reads. */
export interface SubgraphSettings extends ServiceSettings {
  /** NATS_URL; unset: the in-process bus, or the launcher's event hub. */
  natsUrl: string | undefined;
  eventHub: 'ipc' | undefined;
  routerSecret: string;
}

/**
 * The variables every subgraph reads, to spread into its config schema beside its
 * own (and beside `authEnv` of @fitness/auth); subgraphSettings reads them back.
 */
export function subgraphEnv(defaultPort: number) {
  return {
    ...serviceEnv(defaultPort),
    /** NATS JetStream for domain events; unset: the in-process bus (single-instance mode). */
    NATS_URL: optionalUrl(),
    /** `ipc`: without NATS, the launcher's event hub (set by `pnpm start`, not by hand). */
    EVENT_HUB: z.enum(['ipc']).optional(),
    ALLOW_EMBEDDED_STORES: allowEmbeddedStores(),
    ...routerSecretEnv,
  };
}

type SubgraphEnv = z.output<z.ZodObject<ReturnType<typeof subgraphEnv>>>;

/**
 * The settings of subgraphEnv's variables, for a config's `build` step. With
 * `embeddedStores` (each store variable and what the service uses without it),
 * production refuses every one left unset, and an unset NATS_URL after them,
 * unless ALLOW_EMBEDDED_STORES=true; without it, the service runs as well on its
 * stand-ins and nothing is refused. Problems are reported in that order, then the
 * router secret's.
 */
export function subgraphSettings(
  c: SubgraphEnv,
  report: ReportProblem,
  embeddedStores?: Record<string, { url: string | undefined; standIn: string }>,
): SubgraphSettings {
  const service = serviceSettings(c);
  const { production } = service;
  if (embeddedStores) {
    refuseEmbeddedStores(
      { production, allowEmbedded: c.ALLOW_EMBEDDED_STORES },
      {
        ...embeddedStores,
        NATS_URL: { url: c.NATS_URL, standIn: 'an in-process event bus that no other service hears' },
      },
      report,
    );
  }
  return {
    ...service,
    natsUrl: c.NATS_URL,
    eventHub: c.EVENT_HUB,
    routerSecret: routerSecretFrom(c, production, report),
  };
}
