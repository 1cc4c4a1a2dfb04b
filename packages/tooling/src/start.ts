/**
 * `pnpm start`: the whole supergraph on one machine. Subgraphs use real servers when
 * their URLs are set (MONGODB_URL, WORKOUTS_DATABASE_URL, PAYMENTS_DATABASE_URL,
 * REDIS_URL) and embedded defaults otherwise, with data kept in .data/.
 */
import {
  logFormat,
  nodeEnv,
  optionalUrl,
  parseConfig,
  port,
  SAME_SIGNAL_WINDOW_MS,
  wantsPretty,
  z,
} from '@fitness/server-kit';
import { DEMO_PASSWORD, DEMO_USERS, seedDemoData } from './demoData.js';
import { startStack } from './stack.js';

const config = parseConfig(
  'start',
  z.object({
    ROUTER_PORT: port(4000),
    USERS_PORT: port(4001),
    WORKOUTS_PORT: port(4002),
    PAYMENTS_PORT: port(4003),
    RECOMMENDATIONS_PORT: port(4004),
    SEED_DEMO_DATA: z.enum(['true', 'false']).default('true'),
    LOG_FORMAT: logFormat(),
    NODE_ENV: nodeEnv(),
    // Unset: this process hosts the event bus of the whole supergraph (see stack.ts).
    NATS_URL: optionalUrl(),
  }),
  process.env,
);

const started = Date.now();
const stack = await startStack({
  ports: {
    router: config.ROUTER_PORT,
    users: config.USERS_PORT,
    workouts: config.WORKOUTS_PORT,
    payments: config.PAYMENTS_PORT,
    recommendations: config.RECOMMENDATIONS_PORT,
  },
  pretty: wantsPretty(config.LOG_FORMAT),
  eventHub: !config.NATS_URL,
}).catch((error: Error) => {
  process.stderr.write(`\nfailed to start: ${error.message}\n`);
  process.exit(1);
});

let stoppingSince: number | undefined;
const stop = async (signal: NodeJS.Signals) => {
  if (stoppingSince !== undefined) {
    // The terminal's Ctrl-C and tsx's relay of it arrive together: one request to stop.
    if (signal === 'SIGTERM' || Date.now() - stoppingSince < SAME_SIGNAL_WINDOW_MS) return;
    process.stdout.write('\nsecond Ctrl-C: exiting without waiting\n');
    process.exit(1);
  }
  stoppingSince = Date.now();
  process.stdout.write('\nstopping...\n');
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (config.SEED_DEMO_DATA === 'true') {
  try {
    const seeded = await seedDemoData(stack.routerUrl);
    process.stdout.write(
      `\ndemo data: ${seeded.users} users (${DEMO_USERS.map((u) => `${u.handle}@demo.fitness.test`).join(', ')}; password ${DEMO_PASSWORD}), ${seeded.workouts} workouts\n`,
    );
  } catch (error) {
    process.stdout.write(`\ncould not seed demo data: ${(error as Error).message}\n`);
  }
}

process.stdout.write(
  [
    '',
    `supergraph ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  GraphQL:        ${stack.routerUrl}`,
    // The router serves Sandbox outside production only.
    ...(config.NODE_ENV === 'production'
      ? []
      : [
          `  Apollo Sandbox: http://127.0.0.1:${config.ROUTER_PORT}/ (or https://studio.apollographql.com/sandbox/explorer with that endpoint)`,
        ]),
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'),
);
