import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Real servers for tests. `.ci/run` starts PostgreSQL, Redis, NATS and the MongoDB
 * test server (packages/testing/mongo/server.py, an emulator: see the README) and
 * exports these variables; on a developer machine without them the suites that need
 * them are skipped with a line saying so, and under CI a missing server is an error.
 */
export const testServices = {
  postgres: process.env.TEST_POSTGRES_URL || undefined,
  redis: process.env.TEST_REDIS_URL || undefined,
  nats: process.env.TEST_NATS_URL || undefined,
  mongodb: process.env.MONGODB_URL || undefined,
};

export type TestService = keyof typeof testServices;

const ENV_NAMES: Record<TestService, string> = {
  postgres: 'TEST_POSTGRES_URL',
  redis: 'TEST_REDIS_URL',
  nats: 'TEST_NATS_URL',
  mongodb: 'MONGODB_URL',
};

/**
 * The URL of a real server for a suite, or undefined (and a loud "skipped" line)
 * when it is not configured.
 */
export function realService(service: TestService, suite: string): string | undefined {
  const url = testServices[service];
  if (url) return url;
  if (process.env.CI) {
    throw new Error(
      `${ENV_NAMES[service]} must be set under CI: the ${suite} suite needs a real ${service} server.`,
    );
  }
  process.stdout.write(`\n  skipped: no ${service} (${ENV_NAMES[service]} unset); ${suite} did not run\n\n`);
  return undefined;
}

/** A fresh, empty database on the real PostgreSQL server, dropped by `drop()`. */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      // Let the suite's own connections finish closing first: a backend killed by
      // FORCE while its client is still ending surfaces as an uncaught error there.
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await client.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
          [name],
        );
        if (rows[0]?.n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A key prefix no other test run uses, for suites that share one Redis. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

/**
 * The MongoDB URL with a database of the suite's own. Suites run at the same time
 * against one MongoDB server; a stack's users service in a shared database would have
 * its outbox relayed by another stack's relay, to that stack's bus.
 */
export function mongoUrlWithOwnDatabase(url: string, label: string): string {
  const own = new URL(url);
  own.pathname = `/${uniquePrefix(label).replace(/[^A-Za-z0-9_]/g, '_')}`;
  return own.toString();
}
