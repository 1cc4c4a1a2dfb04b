import { z } from 'zod';
import type { TokenSettings } from './tokens.js';

/**
 * A development-only secret, so that `pnpm start` works on a bare machine. Refused
 * when NODE_ENV=production: there JWT_SECRET must be set.
 */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-do-not-use-in-production';

/** The JWT_* variables every service reads, to be merged into its config schema. */
export const authEnv = {
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().min(1).default('fitness-users'),
  JWT_AUDIENCE: z.string().min(1).default('fitness-api'),
};

export interface AuthEnv {
  JWT_SECRET?: string | undefined;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
}

export function tokenSettingsFrom(
  env: AuthEnv,
  production: boolean,
): TokenSettings & { usingDevSecret: boolean } {
  if (!env.JWT_SECRET && production) throw new Error('JWT_SECRET must be set when NODE_ENV=production.');
  return {
    secret: env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    usingDevSecret: !env.JWT_SECRET,
  };
}
