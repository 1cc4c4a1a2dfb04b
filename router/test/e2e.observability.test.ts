import { randomBytes, randomUUID } from 'node:crypto';
import { DashboardDocument, LogWorkoutDocument, SignUpDocument } from '@fitness/client';
import { execute, parsePrometheusText, waitFor } from '@fitness/testing';
import type { ServiceName, Stack } from '@fitness/tooling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubStack } from './hubStack.js';

const SERVICES: ServiceName[] = ['router', 'users', 'workouts', 'payments', 'recommendations'];

/**
 * The supergraph as operators watch it: every service's /metrics after real
 * traffic (sign-up, a logged workout whose events reach other processes through the
 * launcher's hub, the Dashboard that spans all four subgraphs).
 */
describe('observability end to end', () => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    stack = await startHubStack();
    const handle = `obs_${randomBytes(3).toString('hex')}`;
    const { body } = await execute(stack.routerUrl, SignUpDocument, {
      input: {
        email: `${handle}@example.com`,
        password: 'correct horse battery',
        handle,
        displayName: 'Observed',
        region: 'EU',
      },
    });
    expect(body.errors).toBeUndefined();
    token = body.data!.signUp.token;
    const logged = await execute(
      stack.routerUrl,
      LogWorkoutDocument,
      {
        input: {
          id: randomUUID(),
          sport: 'STRENGTH',
          startedAt: new Date(Date.now() - 3_600_000).toISOString(),
          durationSec: 3600,
          sets: [{ exerciseId: 'barbell-bench-press', reps: 8, weightKg: 60 }],
        },
      },
      token,
    );
    expect(logged.body.errors).toBeUndefined();
    const dashboard = await execute(stack.routerUrl, DashboardDocument, {}, token);
    expect(dashboard.body.errors).toBeUndefined();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const scrape = async (service: ServiceName) => {
    const response = await fetch(`${stack.services[service].url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return parsePrometheusText(await response.text());
  };

  it("should serve every service's /metrics as Prometheus text", async () => {
    for (const service of SERVICES) {
      const metrics = await scrape(service);
      expect(metrics.samples.length, service).toBeGreaterThan(0);
    }
  });

  it('should time the operations every service ran, by operation', async () => {
    const served = async (service: ServiceName, operation: string) =>
      (await scrape(service))
        .find('graphql_request_duration_seconds', { operation, outcome: 'ok' })
        .find((s) => s.name.endsWith('_count'))?.value ?? 0;
    expect(await served('router', 'Dashboard')).toBe(1);
    expect(await served('router', 'LogWorkout')).toBe(1);
    // Subgraphs see the router's fetches, named after the client's operation.
    for (const service of ['users', 'workouts', 'payments', 'recommendations'] as const) {
      const metrics = await scrape(service);
      const operations = metrics
        .find('graphql_request_duration_seconds')
        .filter((s) => s.name.endsWith('_count') && s.value > 0)
        .map((s) => s.labels.operation);
      expect(
        operations.some((name) => name?.startsWith('Dashboard')),
        `${service}: ${operations}`,
      ).toBe(true);
    }
  });

  it('should show subgraph fetches by subgraph on the router', async () => {
    const metrics = await scrape('router');
    for (const subgraph of ['users', 'workouts', 'payments', 'recommendations']) {
      const count = metrics
        .find('router_subgraph_fetch_duration_seconds', { subgraph })
        .find((s) => s.name.endsWith('_count'));
      expect(count?.value, subgraph).toBeGreaterThan(0);
      expect(metrics.find('router_subgraph_fetch_errors_total', { subgraph }).length, subgraph).toBe(2);
    }
    expect(metrics.families.has('router_subscriptions_active')).toBe(true);
  });

  it('should show store pools, outboxes, consumers and the cache where each service has them', async () => {
    for (const service of ['workouts', 'payments'] as const) {
      const metrics = await scrape(service);
      expect(metrics.find('store_pool_connections', { store: service, state: 'idle' }).length, service).toBe(
        1,
      );
    }
    for (const service of ['users', 'workouts', 'payments'] as const) {
      // Each relay publishes what it holds: the backlog drains to zero.
      await waitFor(async () => {
        const metrics = await scrape(service);
        const backlog = metrics.find('outbox_backlog_events');
        return backlog.length === 1 && backlog[0]!.value === 0;
      }, `${service}'s outbox backlog to drain`);
      expect((await scrape(service)).families.has('outbox_oldest_event_age_seconds')).toBe(true);
    }
    // workouts.logged reached the leaderboards (workouts) and recommendations consumers.
    for (const [service, consumer] of [
      ['workouts', 'leaderboards'],
      ['recommendations', 'recommendations'],
    ] as const) {
      await waitFor(async () => {
        const metrics = await scrape(service);
        return (metrics.find('events_consumer_acked_total', { consumer })[0]?.value ?? 0) > 0;
      }, `${consumer} to acknowledge the workout's event`);
      const metrics = await scrape(service);
      expect(metrics.find('events_consumer_lag_seconds', { consumer }).length).toBe(1);
      expect(metrics.find('events_consumer_pending', { consumer })[0]?.value).toBe(0);
      expect(metrics.find('events_consumer_dead_letters_total', { consumer })[0]?.value).toBe(0);
    }
    const recommendations = await scrape('recommendations');
    expect(recommendations.find('cache_lookups_total', { cache: 'recommendations' }).length).toBe(2);
  });
});
