import { z } from 'zod';

export { z };

/**
 * Parses `env` with `schema` and, on failure, prints every problem at once and
 * exits: a service never starts on a half-valid configuration.
 */
export function parseConfig<T extends z.ZodType>(
  service: string,
  schema: T,
  env: NodeJS.ProcessEnv,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  process.stderr.write(`${service}: invalid configuration\n${lines.join('\n')}\n`);
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
