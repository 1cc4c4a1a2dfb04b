import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import {
  activeTraceparent,
  createLogger,
  ROUTER_SECRET_HEADER,
  type RunningSubgraph,
  startSubgraph,
  startTracing,
  tracingEnabled,
  tracingEnv,
  tracingSettings,
  z,
} from '../src/index.js';
import { echoSubgraph } from './fixtures/echoSubgraph.js';

const running: RunningSubgraph[] = [];
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
});

const settingsOf = (env: Record<string, string>) => {
  const problems: string[] = [];
  const values = z.object(tracingEnv).parse(env);
  const settings = tracingSettings(values, (variable, message) => problems.push(`${variable}: ${message}`));
  return { settings, problems };
};

describe('tracing settings from the OTEL_* variables', () => {
  it('should be off without an endpoint, and then start nothing', async () => {
    const { settings } = settingsOf({});
    expect(settings.url).toBeUndefined();
    expect(await startTracing('test', settings)).toBeUndefined();
    expect(tracingEnabled()).toBe(false);
    expect(activeTraceparent()).toBeUndefined();
    // No tracer provider was registered: spans made anywhere record nothing.
    expect(trace.getTracer('test').startSpan('probe').isRecording()).toBe(false);
  });

  it('should append /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT and take a traces endpoint as it is', () => {
    expect(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).settings).toEqual({
      url: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: undefined,
    });
    expect(
      settingsOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/otlp/v1/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'workouts-eu',
      }).settings,
    ).toEqual({ url: 'http://tempo:4318/otlp/v1/traces', protocol: 'http/json', serviceName: 'workouts-eu' });
  });

  it('should stay off with OTEL_SDK_DISABLED=true and refuse grpc', () => {
    expect(
      settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).settings
        .url,
    ).toBeUndefined();
    expect(
      settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })
        .problems,
    ).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported: use http/protobuf (the default) or http/json',
    ]);
  });
});

describe("a subgraph's inline trace (Apollo Studio's ftv1)", () => {
  it('should be in extensions.ftv1 only when the router asks for it', async () => {
    const service = await startSubgraph(echoSubgraph({ steps: [] }), createLogger('echo', 'silent'));
    running.push(service);
    const ask = async (headers: Record<string, string>) => {
      const response = await fetch(service.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [ROUTER_SECRET_HEADER]: 'echo-router-secret-echo-router-secret',
          ...headers,
        },
        body: JSON.stringify({ query: '{ echo(text: "traced") }' }),
      });
      return (await response.json()) as { data: unknown; extensions?: { ftv1?: string } };
    };
    const plain = await ask({});
    expect(plain).toEqual({ data: { echo: 'traced' } });
    const traced = await ask({ 'apollo-federation-include-trace': 'ftv1' });
    expect(traced.data).toEqual({ echo: 'traced' });
    expect(Buffer.from(traced.extensions!.ftv1!, 'base64').length).toBeGreaterThan(0);
  });
});
