import {
  allowEmbeddedStores,
  type ConfigChecks,
  logFormat,
  logLevel,
  nodeEnv,
  optionalUrl,
  parseConfig,
  port,
  type ReportProblem,
  refuseEmbeddedStores,
  z,
} from './config.js';
import type { LogFormat } from './prettyLog.js';
import { type TracingSettings, tracingEnv, tracingSettings } from './tracing.js';
import { routerSecretEnv, routerSecretFrom } from './trustedHop.js';

/** Where a service listens and how it logs. */
export interface ServiceSettings {
  production: boolean;
  host: string;
  port: number;
  logLevel: string;
  logFormat: LogFormat;
  /** Where traces go (the OTEL_* variables); absent or without a URL: no tracing. */
  tracing?: TracingSettings;
}

/** The variables of ServiceSettings, which every service reads (the router too). */
export function serviceEnv(defaultPort: number) {
  return {
    NODE_ENV: nodeEnv(),
    HOST: z.string().default('127.0.0.1'),
    PORT: port(defaultPort),
    LOG_LEVEL: logLevel(),
    LOG_FORMAT: logFormat(),
    ...tracingEnv,
  };
}

/** Reads serviceEnv's variables back; `report` lists what they get wrong together. */
export function serviceSettings(
  c: z.output<z.ZodObject<ReturnType<typeof serviceEnv>>>,
  report: ReportProblem = () => {},
): ServiceSettings {
  const production = c.NODE_ENV === 'production';
  return {
    production,
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    logFormat: c.LOG_FORMAT,
    tracing: tracingSettings(c, report),
  };
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
  const service = serviceSettings(c, report);
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

/** The values a subgraph's config reads: subgraphEnv's and its own `env`. */
export type SubgraphValues<S extends z.ZodRawShape> = z.output<
  z.ZodObject<ReturnType<typeof subgraphEnv> & S>
>;

/** Store variables and what the service uses without each (see refuseEmbeddedStores). */
export type EmbeddedStores = Record<string, { url: string | undefined; standIn: string }>;

export interface SubgraphConfigOptions<S extends z.ZodRawShape, R> {
  /** PORT's default. */
  port: number;
  /** The subgraph's own variables (and `authEnv`), beside subgraphEnv's. */
  env: S;
  /** Rules of the subgraph's own variables that are listed before the stores'. */
  check?: (c: SubgraphValues<S>, production: boolean, report: ReportProblem) => void;
  /** The stores whose embedded stand-in production refuses; omitted: none is. */
  embeddedStores?: (c: SubgraphValues<S>) => EmbeddedStores;
  /** The rest of the configuration, beside the SubgraphSettings it is merged with. */
  build: (c: SubgraphValues<S>, settings: SubgraphSettings, checks: ConfigChecks) => R;
}

/**
 * A subgraph's `loadConfig`: parses subgraphEnv's variables and its own, then lists
 * its problems in one order: invalid variables, `check`, the refused stand-ins (see
 * subgraphSettings), the router secret, then what `build` reports (the tokens'). Every
 * problem is printed at once and the process exits (parseConfig).
 */
export function subgraphConfig<S extends z.ZodRawShape, R>(
  service: string,
  options: SubgraphConfigOptions<S, R>,
): (env?: NodeJS.ProcessEnv) => SubgraphSettings & R {
  const schema = z.object({ ...subgraphEnv(options.port), ...options.env });
  return (env = process.env) =>
    parseConfig(service, schema, env, (values, checks) => {
      // zod's output type of a merged generic shape is too deep to name; both views hold.
      const c = values as unknown as SubgraphValues<S>;
      const shared = values as unknown as SubgraphEnv;
      options.check?.(c, shared.NODE_ENV === 'production', checks.report);
      const settings = subgraphSettings(shared, checks.report, options.embeddedStores?.(c));
      return { ...settings, ...options.build(c, settings, checks) };
    });
}
