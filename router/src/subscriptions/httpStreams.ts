import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { SubscribeRefused, type SubscriptionEngine, type SubscriptionRequest } from './engine.js';

/** How one HTTP subscription transport writes its stream. */
export interface StreamFraming {
  contentType: string;
  /** Written once, right after the headers. */
  open: string;
  /** One result, from the engine's serialized `{"data":...,"errors":...}`. */
  result(serialized: string): string;
  /** Keeps proxies and clients from timing the stream out. */
  heartbeat: string;
  /** The stream itself failed: its last result. */
  failure(errors: readonly GraphQLFormattedError[]): string;
  /** The subscription was refused before it started. */
  refusal(errors: readonly GraphQLFormattedError[]): string;
  /** Written last. */
  end: string;
}

/*
 * Multipart (`multipart/mixed;subscriptionSpec=1.0`, what Apollo Client and Sandbox
 * use): the stream opens with a boundary, and every part is CLOSED by the next
 * boundary as soon as it is written, because clients hand a part over only when they
 * see the boundary that ends it. The stream ends with the closing boundary.
 *
 *   \r\n--graphql                                   (open)
 *   \r\ncontent-type: ...\r\n\r\n{...}\r\n--graphql     (one part, closed)
 *   --\r\n                                          (end: the last boundary becomes --graphql--)
 */
const part = (json: string) =>
  `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--graphql`;

export const MULTIPART: StreamFraming = {
  contentType: 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
  open: '\r\n--graphql',
  result: (serialized) => part(`{"payload":${serialized}}`),
  heartbeat: part('{}'),
  failure: (errors) => part(JSON.stringify({ payload: null, errors })),
  refusal: (errors) => part(JSON.stringify({ payload: { errors } })),
  end: '--\r\n',
};

/*
 * GraphQL over Server-Sent Events (the graphql-sse protocol, distinct connections
 * mode): each result is a `next` event, the stream ends with `complete`, and
 * heartbeats are comments, which every SSE parser skips.
 */
const sseNext = (json: string) => `event: next\ndata: ${json}\n\n`;

export const SSE: StreamFraming = {
  contentType: 'text/event-stream; charset=utf-8',
  open: ':\n\n',
  result: sseNext,
  heartbeat: ':\n\n',
  failure: (errors) => sseNext(JSON.stringify({ errors })),
  refusal: (errors) => sseNext(JSON.stringify({ errors })),
  end: 'event: complete\ndata:\n\n',
};

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

/**
 * The HTTP subscription transport the client asked for by its Accept header:
 * multipart (Apollo Client, Sandbox) or SSE (graphql-sse); undefined for neither.
 */
export function subscriptionFramingFor(req: IncomingMessage): StreamFraming | undefined {
  const accept = req.headers.accept ?? '';
  if (/multipart\/mixed/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0"?/i.test(accept)) return MULTIPART;
  if (/text\/event-stream/i.test(accept)) return SSE;
  return undefined;
}

/**
 * Open HTTP subscriptions (multipart and SSE together) per client address: the
 * WebSocket path caps subscriptions per connection, and here every subscription is
 * its own request.
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
 * Serves one subscription as a stream in `framing` (multipart or SSE): every
 * result as it comes, heartbeats, and a failure of the stream itself as a last
 * result with errors. The client closing the response unsubscribes. A client that
 * does not read keeps only the latest result waiting and is cut off after
 * `slowConsumerTimeoutMs`.
 */
export function serveHttpSubscription(
  engine: SubscriptionEngine,
  request: SubscriptionRequest,
  res: ServerResponse,
  quota: MultipartQuota,
  framing: StreamFraming,
  options: MultipartOptions = DEFAULT_MULTIPART_OPTIONS,
): void {
  // The request body has been read (so `req` itself is already closed): the response
  // and its socket are what tell whether the client is still there.
  if (res.destroyed || res.socket?.destroyed) return;
  const giveBack = quota.take(request.clientAddress ?? 'unknown');
  res.writeHead(200, {
    'content-type': framing.contentType,
    'cache-control': 'no-cache',
    // Proxies such as nginx buffer responses unless told not to: a buffered stream is a late one.
    'x-accel-buffering': 'no',
  });
  res.write(framing.open);
  const refuse = (errors: readonly GraphQLFormattedError[]) => {
    res.end(`${framing.refusal(errors)}${framing.end}`);
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
  const heartbeat = setInterval(() => send(framing.heartbeat, true), options.heartbeatMs);
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
    res.end(framing.end);
  };
  function send(chunk: string, isHeartbeat = false): void {
    if (done) return;
    if (res.writableLength < options.highWaterMarkBytes && waiting === undefined) {
      res.write(chunk);
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
    waiting = chunk;
    blockedSince ??= Date.now();
  }
  res.on('drain', () => {
    if (done || waiting === undefined) return;
    const chunk = waiting;
    waiting = undefined;
    blockedSince = undefined;
    res.write(chunk);
  });
  res.on('close', stop);

  try {
    handle = engine.subscribe(request, {
      next: (serialized) => send(framing.result(serialized)),
      error: (errors: readonly GraphQLFormattedError[]) => {
        send(framing.failure(errors));
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
}
