import { describe, expect, it } from 'vitest';
import { cachedCheck, createServiceMetrics, runCheck, runChecks } from '../src/health.js';

describe('health checks', () => {
  it('should count a throw or a hang as down, within the time limit', async () => {
    expect(await runCheck(() => true)).toBe(true);
    expect(await runCheck(async () => false)).toBe(false);
    expect(
      await runCheck(() => {
        throw new Error('refused');
      }),
    ).toBe(false);
    const started = Date.now();
    expect(await runCheck(() => new Promise<boolean>(() => {}), 50)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await runChecks({ bus: () => true, redis: async () => false })).toEqual({
      bus: true,
      redis: false,
    });
  });

  it('should probe at most once per interval, with one probe in flight', async () => {
    let probes = 0;
    const check = cachedCheck(async () => {
      probes += 1;
      await new Promise((r) => setTimeout(r, 20));
      return true;
    }, 200);
    const answers = await Promise.all([check(), check(), check()]);
    expect(answers).toEqual([true, true, true]);
    expect(await check()).toBe(true);
    expect(probes).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    await check();
    expect(probes).toBe(2);
  });

  it('should expose readiness and each dependency as gauges read at scrape time', async () => {
    let bus = true;
    const registry = createServiceMetrics({ ready: () => true, dependencies: { bus: () => bus } });
    expect(await registry.metrics()).toContain('service_dependency_up{dependency="bus"} 1');
    bus = false;
    const text = await registry.metrics();
    expect(text).toContain('service_dependency_up{dependency="bus"} 0');
    expect(text).toContain('service_ready 1');
  });
});
