import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  logScopeFields,
  ROUTER_SECRET_HEADER,
  type RunningSubgraph,
  runInRequestScope,
  startSubgraph,
} from '../src/index.js';
import { echoSubgraph } from './fixtures/echoSubgraph.js';

const secret = 'echo-router-secret-echo-router-secret';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const running: RunningSubgraph[] = [];

afterAll(async () => {
  await Promise.all(running.map((service) => service.stop()));
});

/** A service logger whose JSON lines are kept, parsed. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('echo', 'info', 'json', stream), lines };
}

async function startEcho() {
  const { logger, lines } = capturedLogger();
  // The resolver logs through a child logger, as data sources do.
  const child = logger.child({ component: 'resolver' });
  const service = await startSubgraph(
    echoSubgraph({ steps: [], onEcho: (text) => child.info({ text }, 'echoed') }),
    logger,
  );
  running.push(service);
  const send = (text: string, headers: Record<string, string>) =>
    fetch(service.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: 'query ($text: String!) { echo(text: $text) }', variables: { text } }),
    });
  const echoed = (text: string) => lines.find((line) => line.msg === 'echoed' && line.text === text);
  return { send, echoed, lines };
}

describe('request scope on log lines', () => {
  it("should put the router's request id and the traceparent's trace id on every line a request writes", async () => {
    const { send, echoed } = await startEcho();
    const response = await send('one', {
      [ROUTER_SECRET_HEADER]: secret,
      'x-request-id': 'req-123',
      traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
    });
    expect(response.status).toBe(200);
    expect(echoed('one')).toMatchObject({
      service: 'echo',
      component: 'resolver',
      requestId: 'req-123',
      traceId: TRACE_ID,
    });
  });

  it('should leave out a request id that is not one, and a malformed traceparent', async () => {
    const { send, echoed } = await startEcho();
    await send('two', {
      [ROUTER_SECRET_HEADER]: secret,
      'x-request-id': 'not a request id; drop table',
      traceparent: '00-nothex-00f067aa0ba902b7-01',
    });
    const line = echoed('two');
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('requestId');
    expect(line).not.toHaveProperty('traceId');
  });

  it('should keep concurrent requests apart', async () => {
    const { send, echoed } = await startEcho();
    await Promise.all(
      ['a', 'b', 'c'].map((id) => send(id, { [ROUTER_SECRET_HEADER]: secret, 'x-request-id': `req-${id}` })),
    );
    for (const id of ['a', 'b', 'c']) expect(echoed(id)?.requestId).toBe(`req-${id}`);
  });

  it("should let a line's own requestId win and add nothing outside a request", () => {
    expect(logScopeFields()).toEqual({});
    const { logger, lines } = capturedLogger();
    runInRequestScope({ requestId: 'scoped' }, () => {
      logger.info('inside');
      logger.info({ requestId: 'explicit' }, 'explicit');
    });
    logger.info('outside');
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['inside', 'scoped'],
      ['explicit', 'explicit'],
      ['outside', undefined],
    ]);
  });
});
