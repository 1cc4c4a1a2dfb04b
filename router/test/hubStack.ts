import { randomBytes } from 'node:crypto';
import { type Stack, type StackOptions, startStack } from '@fitness/tooling';

/**
 * The stack as `pnpm start` runs it on a bare machine: no NATS, no Redis, embedded
 * stores in memory, the launcher hosting one event bus that every service reaches
 * over IPC. `env` and `serviceEnv` go on top (e.g. where traces are exported).
 */
export function startHubStack(
  options: { env?: StackOptions['env']; serviceEnv?: StackOptions['serviceEnv'] } = {},
): Promise<Stack> {
  return startStack({
    ports: 'free',
    output: 'capture',
    eventHub: true,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'),
      APOLLO_TELEMETRY_DISABLED: 'true',
      NATS_URL: undefined,
      REDIS_URL: undefined,
      ...options.env,
    },
    serviceEnv: {
      ...options.serviceEnv,
      payments: { PAYMENTS_DATA_DIR: 'memory://', ...options.serviceEnv?.payments },
      workouts: { WORKOUTS_DATA_DIR: 'memory://', ...options.serviceEnv?.workouts },
      users: { USERS_DATA_DIR: 'memory://', MONGODB_URL: undefined, ...options.serviceEnv?.users },
    },
  });
}
