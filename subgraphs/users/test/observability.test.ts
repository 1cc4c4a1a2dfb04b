import { randomBytes } from 'node:crypto';
import { createTokenVerifier, viewerFromHeaders } from '@fitness/auth';
import {
  createLogger,
  createSubgraphServer,
  ROUTER_SECRET_HEADER,
  type Served,
  ServiceMetrics,
  serve,
  startTracing,
  type Tracing,
} from '@fitness/server-kit';
import {
  mongoUrlWithOwnDatabase,
  parsePrometheusText,
  postGraphQL,
  realService,
  startOtlpReceiver,
  testServices,
  waitFor,
} from '@fitness/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { usersSubgraph } from '../src/server.js';
import { connectMongo, openServiceStores, type UsersServiceStores } from '../src/stores.js';
import { TEST_TOKENS, testAccounts, uniqueHandle } from './adapters.js';

const mongoUrl = realService('mongodb', 'users observability (Mongo pool metrics and spans)');
const logger = createLogger('users-observability-test', 'silent');
const ROUTER_SECRET = randomBytes(32).toString('hex');
const SIGN_UP = 'mutation SignUp($input: SignUpInput!) { signUp(input: $input) { user { id } } }';
const CLIENT = 3;

/**
 * The users service on MongoDB, wired as index.ts wires it (stores reporting to the
 * service's metrics, tracing started first), exporting its spans to a receiver in
 * this test: its /metrics shows the Mongo pool (and the throttle's Redis client with
 * TEST_REDIS_URL), and a signUp's trace holds its MongoDB commands.
 */
describe.skipIf(!mongoUrl)('users on MongoDB: pool metrics and command spans', () => {
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let tracing: Tracing | undefined;
  let stores: UsersServiceStores;
  let users: Served;
  const handle = uniqueHandle('obs');
  const email = `${handle}@example.com`;
  const traceId = randomBytes(16).toString('hex');
  const ownDatabase = mongoUrlWithOwnDatabase(mongoUrl ?? 'mongodb://unset', 'users-observability');

  const scheduleDelay = process.env.OTEL_BSP_SCHEDULE_DELAY;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    // Exported within a tenth of a second, not the default five (restored afterwards).
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    tracing = await startTracing('users', {
      url: `${otlp.url}/v1/traces`,
      protocol: 'http/json',
      serviceName: undefined,
    });
    const metrics = new ServiceMetrics({ processMetrics: false });
    stores = await openServiceStores(
      { mongodbUrl: ownDatabase, redisUrl: testServices.redis },
      logger,
      metrics,
    );
    const accounts = testAccounts(stores.limiter);
    const verify = createTokenVerifier(TEST_TOKENS);
    users = await serve({
      logger,
      apollo: createSubgraphServer({ ...usersSubgraph, logger, plugins: [metrics.plugin()] }),
      routerSecret: ROUTER_SECRET,
      authenticate: (req) => viewerFromHeaders(req.headers, verify),
      context: (viewer) => createContext(viewer, stores.store, accounts, logger),
      ready: () => stores.ready(),
      registry: metrics.registry,
      host: '127.0.0.1',
      port: 0,
      closeStores: () => stores.close(),
    });
    const { body } = await postGraphQL(
      users.url,
      SIGN_UP,
      { input: { email, password: 'correct horse battery', handle, displayName: 'Observed', region: 'EU' } },
      { [ROUTER_SECRET_HEADER]: ROUTER_SECRET, traceparent: `00-${traceId}-${'1'.repeat(16)}-01` },
    );
    expect(body.errors).toBeUndefined();
  });

  afterAll(async () => {
    await users?.stop();
    await tracing?.shutdown();
    if (scheduleDelay === undefined) delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    else process.env.OTEL_BSP_SCHEDULE_DELAY = scheduleDelay;
    await otlp?.stop();
    const connection = await connectMongo(ownDatabase);
    await connection.dropDatabase();
    await connection.close();
  });

  const scrape = async () => {
    const response = await fetch(users.url.replace(/graphql$/, 'metrics'));
    expect(response.status).toBe(200);
    return parsePrometheusText(await response.text());
  };

  it("should show the Mongo pool's connections and checkout waits in /metrics", async () => {
    const metrics = await scrape();
    const state = (name: string) =>
      metrics.find('store_pool_connections', { store: 'users', state: name })[0]?.value;
    // Nothing is in flight between requests; the pool keeps what it opened.
    expect(state('in_use')).toBe(0);
    expect(state('waiting')).toBe(0);
    expect(state('idle')).toBeGreaterThan(0);
    expect(state('max')).toBe(100);
    const waits = metrics.find('store_pool_wait_seconds', { store: 'users' });
    expect(waits.find((s) => s.name === 'store_pool_wait_seconds_count')?.value).toBeGreaterThan(0);
  });

  it.skipIf(!testServices.redis)("should show the throttle's Redis client in /metrics", async () => {
    const metrics = await scrape();
    expect(metrics.find('store_client_connected', { store: 'throttle' })[0]?.value).toBe(1);
    expect(metrics.find('store_client_commands', { store: 'throttle', state: 'in_flight' })[0]?.value).toBe(
      0,
    );
    expect(metrics.find('store_client_commands', { store: 'throttle', state: 'queued' })[0]?.value).toBe(0);
  });

  it("should put signUp's MongoDB commands in its trace, with the collection and never a value", async () => {
    const mongoSpans = () =>
      otlp
        .trace(traceId)
        .filter((span) => span.kind === CLIENT && span.attributes['db.system'] === 'mongodb');
    await waitFor(
      () => mongoSpans().some((span) => span.attributes['db.operation.name'] === 'insert'),
      "signUp's MongoDB insert span",
    );
    const insert = mongoSpans().find((span) => span.attributes['db.operation.name'] === 'insert')!;
    expect(insert).toMatchObject({
      service: 'users',
      name: 'mongodb insert',
      attributes: { 'db.system': 'mongodb', 'db.collection.name': 'users' },
    });
    expect(insert.attributes['db.namespace']).toMatch(/^test_users_observability_/);
    // Issued while the request resolved signUp: a descendant of the field's span.
    const spans = otlp.trace(traceId);
    const signUp = spans.find((span) => span.service === 'users' && span.name === 'Mutation.signUp');
    expect(signUp).toBeDefined();
    const ancestors = (spanId: string | undefined): string[] => {
      const parent = spans.find((span) => span.spanId === spanId);
      return parent ? [parent.spanId, ...ancestors(parent.parentSpanId)] : [];
    };
    expect(ancestors(insert.parentSpanId)).toContain(signUp!.spanId);
    for (const span of mongoSpans()) {
      expect(Object.keys(span.attributes).sort(), span.name).toEqual(
        expect.arrayContaining(['db.namespace', 'db.operation.name', 'db.system']),
      );
      for (const key of Object.keys(span.attributes))
        expect(['db.system', 'db.namespace', 'db.operation.name', 'db.collection.name']).toContain(key);
      const values = JSON.stringify(span.attributes);
      expect(values).not.toContain(handle);
      expect(values).not.toContain('correct horse battery');
    }
  });
});
