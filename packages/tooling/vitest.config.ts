import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

const require = createRequire(import.meta.url);

export default defineConfig({
  root,
  resolve: {
    // graphql ships CommonJS and ESM builds; Apollo's packages require() the CommonJS one.
    // Vite would pick the ESM one for our sources, and two copies of graphql break every
    // instanceof check ("Cannot use GraphQLObjectType from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: [
      'subgraphs/*/{src,test}/**/*.test.ts',
      'packages/*/{src,test}/**/*.test.ts',
      'router/{src,test}/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    // Suites start real servers and stores; two cores do not run many at once well.
    fileParallelism: true,
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: {
      APOLLO_TELEMETRY_DISABLED: 'true',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      // Every operation the suites send through a router runs on both executors, the
      // gateway's as the oracle; a difference fails the test (EXECUTOR_MISMATCH).
      ROUTER_EXECUTOR: process.env.ROUTER_EXECUTOR ?? 'compare',
    },
    // The JSON report lets CI print a plain "N passed, N failed" closing line.
    reporters: ['default', ['json', { outputFile: 'node_modules/.vitest/report.json' }]],
  },
});
