import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root,
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
    env: { APOLLO_TELEMETRY_DISABLED: 'true', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
    reporters: ['default'],
  },
});
