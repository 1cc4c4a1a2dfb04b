import { Writable } from 'node:stream';
import { ApolloServer } from '@apollo/server';
import { afterAll, describe, expect, it } from 'vitest';
import {
  apolloServerLogger,
  closeHttpServer,
  createHttpApp,
  createLogger,
  errorRequestIdPlugin,
  listen,
  logScopeFields,
  ROUTER_SECRET_HEADER,
  type RunningSubgraph,
  requestLogger,
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

/**
 * A service without a request scope (the router while tracing is off) hands the
 * request's id to what writes lines: createHttpApp to authenticate and to its own
 * error line, errorRequestIdPlugin in place of Apollo Server's line about a request
 * that threw, requestLogger to @apollo/gateway's request context.
 */
describe('request lines without a request scope', () => {
  it("should name the request on createHttpApp's error line and hand its id to authenticate", async () => {
    const { logger, lines } = capturedLogger();
    const apollo = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }', logger });
    await apollo.start();
    const handed: (string | undefined)[] = [];
    const server = createHttpApp({
      logger,
      apollo,
      requestScope: false,
      requestId: (req) => (req.headers['x-request-id'] as string | undefined) ?? 'made-here',
      authenticate: async (req, requestId) => {
        handed.push(requestId);
        if (req.headers['x-fail']) throw new Error('the key store is down');
        return {};
      },
      context: () => ({}),
      ready: () => true,
    });
    const port = await listen(server, 0, '127.0.0.1');
    try {
      const post = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ query: '{ ok }' }),
        });
      expect((await post({})).status).toBe(200);
      expect((await post({ 'x-request-id': 'failing', 'x-fail': '1' })).status).toBe(500);
      expect(handed).toEqual(['made-here', 'failing']);
      expect(lines.find((l) => l.msg === 'unhandled error in HTTP handler')).toMatchObject({
        requestId: 'failing',
      });
    } finally {
      await closeHttpServer(server, 0);
      await apollo.stop();
    }
  });

  it("should log a request whose processing threw with its id, in place of Apollo Server's line", async () => {
    const { logger, lines } = capturedLogger();
    const apollo = new ApolloServer<{ requestId: string }>({
      typeDefs: 'type Query { ok: Boolean }',
      logger: apolloServerLogger(logger),
      plugins: [
        errorRequestIdPlugin<{ requestId: string }>((context) => context.requestId, logger),
        {
          async requestDidStart() {
            return {
              async willSendResponse() {
                throw new Error('a hook that fails');
              },
            };
          },
        },
      ],
    });
    await apollo.start();
    try {
      await expect(
        apollo.executeOperation({ query: '{ ok }' }, { contextValue: { requestId: 'thrown' } }),
      ).rejects.toThrow('Internal server error');
      const errors = lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ msg: 'unexpected error processing request', requestId: 'thrown' });
      expect(errors[0]!.err).toMatchObject({ message: 'a hook that fails' });
    } finally {
      await apollo.stop();
    }
  });

  it("should give Apollo's line-at-a-time logging the request's id", () => {
    const { logger, lines } = capturedLogger();
    const lineLogger = requestLogger(logger, 'gateway-request');
    lineLogger.warn('could not store the plan');
    lineLogger.error(new Error('decoding failed'));
    expect(requestLogger(logger, undefined)).toBe(logger);
    expect(lines).toMatchObject([
      { level: 40, msg: 'could not store the plan', requestId: 'gateway-request' },
      {
        level: 50,
        msg: 'decoding failed',
        requestId: 'gateway-request',
        err: { message: 'decoding failed' },
      },
    ]);
  });
});
