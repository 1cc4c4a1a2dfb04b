import { z } from 'zod';

export { z };

/** Records one configuration problem of `variable`; parseConfig lists them all, then exits. */
export type ReportProblem = (variable: string, message: string) => void;

/** What a config's `build` step gets, to check rules that span variables. */
export interface ConfigChecks {
  report: ReportProblem;
  /**
   * Runs a derivation that may throw (e.g. parsing a key) and lists its error as a
   * problem instead of failing start-up with a stack. It is skipped when one of
   * `variables` is already invalid: a rule that reads a bad value says nothing new.
   * The value it returns after a problem is never used: parseConfig exits first.
   */
  attempt<T>(variables: readonly string[], derive: () => T): T;
}

/**
 * Parses `env` with `schema`, then lets `build` check the rules that span several
 * variables and shape the result. Every problem, of a single variable or of a rule,
 * is printed at once, one line each and without a stack, and the process exits: a
 * service never starts on a half-valid configuration.
 *
 * When a variable is invalid, `build` still runs on the variables that parsed, so
 * that its rules are listed too; problems it reports about an invalid variable, and
 * anything it throws for want of one, are dropped.
 */
export function parseConfig<S extends z.ZodRawShape, R = z.output<z.ZodObject<S>>>(
  service: string,
  schema: z.ZodObject<S>,
  env: NodeJS.ProcessEnv,
  build?: (c: z.output<z.ZodObject<S>>, checks: ConfigChecks) => R,
): R {
  const problems: string[] = [];
  const invalid = new Set<string>();
  const result = schema.safeParse(env);
  let values: z.output<z.ZodObject<S>>;
  if (result.success) {
    values = result.data;
  } else {
    for (const issue of result.error.issues) {
      invalid.add(String(issue.path[0] ?? ''));
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const partial: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(schema.shape)) {
      const parsed = (field as z.ZodType).safeParse(env[key]);
      if (parsed.success) partial[key] = parsed.data;
    }
    values = partial as z.output<z.ZodObject<S>>;
  }

  let built = values as unknown as R;
  if (build) {
    const report: ReportProblem = (variable, message) => {
      if (!invalid.has(variable)) problems.push(`${variable}: ${message}`);
    };
    const attempt = <T>(variables: readonly string[], derive: () => T): T => {
      if (variables.some((v) => invalid.has(v))) return undefined as T;
      try {
        return derive();
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
        return undefined as T;
      }
    };
    try {
      built = build(values, { report, attempt });
    } catch (error) {
      // With some variables missing a rule may trip over one; those are listed already.
      if (result.success) throw error;
    }
  }
  if (problems.length === 0) return built;
  process.stderr.write(`${service}: invalid configuration\n${problems.map((p) => `  ${p}\n`).join('')}`);
  process.exit(1);
}

/** Environment values that read as a port number. */
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

/** Optional URL: unset or empty both mean "use the embedded default". */
export const optionalUrl = () =>
  z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(z.string().url().optional());

export const logLevel = () =>
  z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** LOG_FORMAT: `json`, `pretty`, or `auto` (pretty on a terminal, JSON otherwise). */
export const logFormat = () => z.enum(['json', 'pretty', 'auto']).default('auto');

export const nodeEnv = () => z.enum(['development', 'production', 'test']).default('development');

/** A `true`/`false` variable, read as a boolean. */
export const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

/** The shortest secret accepted anywhere. */
export const SECRET_MIN_LENGTH = 32;
/** A production secret uses at least this many different characters. */
export const SECRET_MIN_DISTINCT = 8;
/** A production secret carries at least this many bits by the estimate of {@link secretBits}. */
export const SECRET_MIN_BITS = 96;

/**
 * An upper estimate of a secret's entropy: its length times the Shannon entropy of
 * its own character frequencies. A generated secret scores close to its real
 * entropy (`openssl rand -hex 32`: about 240); a repeated or mostly repeated
 * character scores near zero, whatever the length.
 */
export function secretBits(secret: string): number {
  const chars = [...secret];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / chars.length) * Math.log2(n / chars.length);
  return chars.length * perChar;
}

/**
 * Why `secret` is too weak for production, or undefined when it is not: shorter
 * than 32 characters, fewer than 8 different ones, under 96 bits by
 * {@link secretBits}, or one of the development defaults published in this
 * repository. A secret from `openssl rand -hex 32` or `-base64 32` always passes.
 */
export function weakSecretReason(secret: string, knownDefaults: readonly string[] = []): string | undefined {
  if (knownDefaults.includes(secret)) return 'is a development default published in the source';
  const chars = [...secret];
  if (chars.length < SECRET_MIN_LENGTH) return `must be at least ${SECRET_MIN_LENGTH} characters`;
  if (new Set(chars).size < SECRET_MIN_DISTINCT) {
    return `uses fewer than ${SECRET_MIN_DISTINCT} different characters; generate one, e.g. openssl rand -hex 32`;
  }
  if (secretBits(secret) < SECRET_MIN_BITS) {
    return 'is too predictable (mostly one character or pattern); generate one, e.g. openssl rand -hex 32';
  }
  return undefined;
}

/**
 * ALLOW_EMBEDDED_STORES: in production, an unset store URL is refused unless this is
 * `true`, since its embedded or in-process stand-in keeps the service to one
 * instance without saying so to anyone but the log.
 */
export const allowEmbeddedStores = () => flag(false);

/**
 * Lists, in production, every store variable left unset whose stand-in is
 * embedded or in process, unless ALLOW_EMBEDDED_STORES=true.
 * `stores` maps each variable to what the service would use without it.
 */
export function refuseEmbeddedStores(
  c: { production: boolean; allowEmbedded: boolean },
  stores: Record<string, { url: string | undefined; standIn: string }>,
  report: ReportProblem,
): void {
  if (!c.production || c.allowEmbedded) return;
  for (const [variable, { url, standIn }] of Object.entries(stores)) {
    if (url) continue;
    report(
      variable,
      `must be set when NODE_ENV=production (unset: ${standIn}); ALLOW_EMBEDDED_STORES=true accepts that`,
    );
  }
}
