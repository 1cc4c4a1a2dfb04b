import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { SubscribeRefused, type SubscriptionEngine, type SubscriptionRequest } from './engine.js';

const BOUNDARY = 'graphql';
const DELIMITER = `\r\n--${BOUNDARY}\r\ncontent-type: application/json; charset=utf-8\r\n\r\n`;
const END = `\r\n--${BOUNDARY}--\r\n`;

/** Heartbeat interval of multipart subscriptions (an empty JSON object part). @default 5_000 */
export const MULTIPART_HEARTBEAT_MS = 5_000;

/** Whether the client asked for subscriptions over multipart HTTP (Apollo Client, Sandbox). */
export function acceptsMultipartSubscription(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return /multipart\/mixed/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0"?/i.test(accept);
}

/**
 * Serves one subscription as `multipart/mixed;subscriptionSpec=1.0`: each part is
 * `{"payload": <result>}`, `{}` is a heartbeat, and a failure of the stream itself is
 * a last part `{"payload": null, "errors": [...]}`. The client closing the response
 * unsubscribes.
 */
export function serveMultipartSubscription(
  engine: SubscriptionEngine,
  request: SubscriptionRequest,
  req: IncomingMessage,
  res: ServerResponse,
  heartbeatMs = MULTIPART_HEARTBEAT_MS,
): void {
  res.writeHead(200, {
    'content-type': `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`,
    'cache-control': 'no-cache',
  });
  res.flushHeaders();
  let done = false;
  const write = (json: string) => {
    if (!done) res.write(`${DELIMITER}${json}`);
  };
  const finish = () => {
    if (done) return;
    done = true;
    clearInterval(heartbeat);
    res.end(END);
  };
  const heartbeat = setInterval(() => write('{}'), heartbeatMs);
  heartbeat.unref();

  let handle: { close(): void } | undefined;
  try {
    handle = engine.subscribe(request, {
      next: (serialized) => write(`{"payload":${serialized}}`),
      error: (errors: readonly GraphQLFormattedError[]) => {
        write(JSON.stringify({ payload: null, errors }));
        finish();
      },
      complete: finish,
    });
  } catch (error) {
    if (!(error instanceof SubscribeRefused)) throw error;
    write(JSON.stringify({ payload: { errors: error.errors } }));
    finish();
    return;
  }
  const unsubscribe = () => {
    handle?.close();
    done = true;
    clearInterval(heartbeat);
  };
  req.on('close', unsubscribe);
  res.on('close', unsubscribe);
}
