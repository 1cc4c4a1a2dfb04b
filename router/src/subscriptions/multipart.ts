import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { SubscribeRefused, type SubscriptionEngine, type SubscriptionRequest } from './engine.js';

const BOUNDARY = 'graphql';
const DELIMITER = `\r\n--${BOUNDARY}\r\ncontent-type: application/json; charset=utf-8\r\n\r\n`;
const END = `\r\n--${BOUNDARY}--\r\n`;

export interface MultipartOptions {
  /** Heartbeat interval (an empty JSON object part). @default 5_000 */
  heartbeatMs: number;
  /** Unsent bytes above which results wait, latest wins. @default 1_048_576 */
  highWaterMarkBytes: number;
  /** How long a response may stay over the mark before it is ended. @default 15_000 */
  slowConsumerTimeoutMs: number;
  /** Called when a slow response is ended. */
  onSlowConsumer?: () => void;
}

export const DEFAULT_MULTIPART_OPTIONS: MultipartOptions = {
  heartbeatMs: 5_000,
  highWaterMarkBytes: 1_048_576,
  slowConsumerTimeoutMs: 15_000,
};

/** Whether the client asked for subscriptions over multipart HTTP (Apollo Client, Sandbox). */
export function acceptsMultipartSubscription(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /multipart\/mixed/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0"?/i.test(accept);
}

/**
 * Open multipart subscriptions per client address: the WebSocket path caps
 * subscriptions per connection, and here every subscription is its own request.
 */
export class MultipartQuota {
  private readonly open = new Map<string, number>();

  constructor(readonly perClient: number) {}

  take(client: string): (() => void) | undefined {
    const count = this.open.get(client) ?? 0;
    if (count >= this.perClient) return undefined;
    this.open.set(client, count + 1);
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      const left = (this.open.get(client) ?? 1) - 1;
      if (left > 0) this.open.set(client, left);
      else this.open.delete(client);
    };
  }
}

/**
 * Serves one subscription as `multipart/mixed;subscriptionSpec=1.0`: each part is
 * `{"payload": <result>}`, `{}` is a heartbeat, and a failure of the stream itself is
 * a last part `{"payload": null, "errors": [...]}`. The client closing the response
 * unsubscribes. A client that does not read keeps only the latest result waiting
 * and is cut off after `slowConsumerTimeoutMs`.
 */
export function serveMultipartSubscription(
  engine: SubscriptionEngine,
  request: SubscriptionRequest,
  res: ServerResponse,
  quota: MultipartQuota,
  options: MultipartOptions = DEFAULT_MULTIPART_OPTIONS,
): void {
  // The request body has been read (so `req` itself is already closed): the response
  // and its socket are what tell whether the client is still there.
  if (res.destroyed || res.socket?.destroyed) return;
  const giveBack = quota.take(request.clientAddress ?? 'unknown');
  res.writeHead(200, {
    'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
    'cache-control': 'no-cache',
  });
  const refuse = (errors: readonly GraphQLFormattedError[]) => {
    res.end(`${DELIMITER}${JSON.stringify({ payload: { errors } })}${END}`);
  };
  if (!giveBack) {
    refuse([
      {
        message: `At most ${quota.perClient} HTTP subscriptions per client; use graphql-ws for more.`,
        extensions: { code: 'RATE_LIMITED' },
      },
    ]);
    return;
  }

  let done = false;
  let waiting: string | undefined;
  let blockedSince: number | undefined;
  let handle: { close(): void } | undefined;
  const heartbeat = setInterval(() => send('{}', true), options.heartbeatMs);
  heartbeat.unref();
  const stop = () => {
    if (done) return;
    done = true;
    clearInterval(heartbeat);
    handle?.close();
    giveBack();
  };
  const finish = () => {
    if (done) return;
    stop();
    res.end(END);
  };
  function send(json: string, isHeartbeat = false): void {
    if (done) return;
    if (res.writableLength < options.highWaterMarkBytes && waiting === undefined) {
      res.write(`${DELIMITER}${json}`);
      return;
    }
    if (isHeartbeat) {
      if (blockedSince !== undefined && Date.now() - blockedSince > options.slowConsumerTimeoutMs) {
        options.onSlowConsumer?.();
        stop();
        res.destroy();
      }
      return;
    }
    waiting = json;
    blockedSince ??= Date.now();
  }
  res.on('drain', () => {
    if (done || waiting === undefined) return;
    const json = waiting;
    waiting = undefined;
    blockedSince = undefined;
    res.write(`${DELIMITER}${json}`);
  });
  res.on('close', stop);

  try {
    handle = engine.subscribe(request, {
      next: (serialized) => send(`{"payload":${serialized}}`),
      error: (errors: readonly GraphQLFormattedError[]) => {
        send(JSON.stringify({ payload: null, errors }));
        finish();
      },
      complete: finish,
    });
  } catch (error) {
    stop();
    if (!(error instanceof SubscribeRefused)) throw error;
    refuse(error.errors);
    return;
  }
  if (done) handle.close();
  else res.flushHeaders();
}
