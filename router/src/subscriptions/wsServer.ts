import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Revocation, Viewer } from '@fitness/auth';
import { requestUrl } from '@fitness/server-kit';
import { GraphQLError, type GraphQLFormattedError, getOperationAST, parse } from 'graphql';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  type Message,
  MessageType,
  parseMessage,
  stringifyMessage,
} from 'graphql-ws';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { SubscribeRefused, type SubscriptionEngine, type SubscriptionHandle } from './engine.js';

/** Closed for a client that cannot keep up with its subscriptions. Clients may reconnect. */
export const SLOW_CONSUMER_CLOSE_CODE = 1013;

export interface WsLimits {
  /** Subscriptions one connection may hold. @default 100 */
  maxSubscriptionsPerConnection: number;
  /** Open connections one client address may hold; more are refused with HTTP 429. @default 100 */
  maxConnectionsPerAddress: number;
  /** Time allowed between opening the socket and connection_init. @default 3_000 */
  connectionInitTimeoutMs: number;
  /** Bytes a socket may have unsent before new results wait (latest wins). @default 1_048_576 */
  highWaterMarkBytes: number;
  /** How long a socket may stay over the mark before it is closed as a slow consumer. @default 15_000 */
  slowConsumerTimeoutMs: number;
  /** Largest incoming message. @default 262_144 */
  maxPayloadBytes: number;
  /** Interval of protocol-level pings that find dead peers. @default 30_000 */
  heartbeatMs: number;
}

export const DEFAULT_WS_LIMITS: WsLimits = {
  maxSubscriptionsPerConnection: 100,
  maxConnectionsPerAddress: 100,
  connectionInitTimeoutMs: 3_000,
  highWaterMarkBytes: 1_048_576,
  slowConsumerTimeoutMs: 15_000,
  maxPayloadBytes: 262_144,
  heartbeatMs: 30_000,
};

/** The authenticated side of a connection, from connection_init's payload. */
export interface WsSession<TAuth> {
  auth: TAuth;
}

export interface WsServerOptions<TAuth> {
  server: HttpServer;
  path: string;
  logger: Logger;
  engine: SubscriptionEngine;
  limits?: Partial<WsLimits>;
  /**
   * Checks connection_init's payload (`{ authorization: "Bearer ..." }`). Throwing
   * closes the socket with 4403 Forbidden; anonymous callers return an anonymous auth.
   */
  authenticate(payload: Record<string, unknown>, req: IncomingMessage): Promise<TAuth>;
  /** The client's address (as the router determines it), for the per-address connection cap. */
  clientAddress?(req: IncomingMessage): string | undefined;
  /** When the connection's credentials stop being valid: the socket is closed with 4403 then. */
  expiresAt?(auth: TAuth): Date | undefined;
  /**
   * Token revocations as they happen (a deleted account, a signOutEverywhere): each
   * connection whose credentials one refuses is closed with 4403 at once, also one
   * whose connection_init was being checked when it came.
   */
  revocations?: {
    onRevoked(listener: (revocation: Revocation) => void): () => void;
    refuses(auth: TAuth, revocation: Revocation): boolean;
  };
  /** Turns the connection's auth into a subscription request's identity. */
  identity(auth: TAuth): {
    viewer: Viewer;
    authorization: string | undefined;
    requestId: string;
    clientAddress?: string | undefined;
  };
  /**
   * Sees every operation's source before it is parsed (nesting limit, safelist);
   * throwing a GraphQLError refuses it with the protocol's error message.
   */
  admitSource?(query: string): void;
  /** Runs a query or mutation sent over the socket. */
  execute(
    request: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
    auth: TAuth,
  ): Promise<{ data?: unknown; errors?: readonly GraphQLFormattedError[] }>;
  metrics?: { connectionOpened(): void; connectionClosed(): void; slowConsumerClosed(): void };
}

export interface WsServer {
  connections(): number;
  /** Closes every connection (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
}

/**
 * The graphql-transport-ws protocol, served on the router's HTTP server. Written
 * here rather than through graphql-ws's server because results are serialized once
 * per group by the engine and written to each socket as they are: the protocol
 * envelope around them is a string concatenation, not a JSON.stringify per client.
 * Message parsing, types and close codes come from graphql-ws itself.
 */
export function serveWebSockets<TAuth>(options: WsServerOptions<TAuth>): WsServer {
  const limits = { ...DEFAULT_WS_LIMITS, ...options.limits };
  const { logger } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    handleProtocols: (protocols) =>
      protocols.has(GRAPHQL_TRANSPORT_WS_PROTOCOL) ? GRAPHQL_TRANSPORT_WS_PROTOCOL : false,
  });

  // Open connections per client address; an entry goes when its last connection does.
  const perAddress = new Map<string, number>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      if (requestUrl(req).pathname !== options.path) {
        socket.destroy();
        return;
      }
      const address = options.clientAddress?.(req) ?? 'unknown';
      const open = perAddress.get(address) ?? 0;
      if (open >= limits.maxConnectionsPerAddress) {
        // Refused before the handshake: clients see a failed connection and back off.
        socket.end(
          'HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 10\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      perAddress.set(address, open + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      };
      socket.once('close', release);
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch (err) {
      logger.warn({ err }, 'refused a WebSocket upgrade');
      socket.destroy();
    }
  };
  options.server.on('upgrade', onUpgrade);

  const open = new Set<Connection<TAuth>>();
  const stopRevocations = options.revocations?.onRevoked((revocation) => {
    for (const connection of open) connection.revoked(revocation);
  });

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    if (ws.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      ws.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    options.metrics?.connectionOpened();
    const connection = new Connection(ws, req, options, limits);
    open.add(connection);
    ws.once('close', () => {
      open.delete(connection);
      options.metrics?.connectionClosed();
    });
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const alive = ws as WebSocket & { isAlive?: boolean };
      if (alive.isAlive === false) {
        ws.terminate();
        continue;
      }
      alive.isAlive = false;
      ws.ping();
    }
  }, limits.heartbeatMs);
  heartbeat.unref();

  logger.debug({ path: options.path }, 'serving graphql-transport-ws');
  return {
    connections: () => wss.clients.size,
    close: () =>
      new Promise((resolve) => {
        clearInterval(heartbeat);
        stopRevocations?.();
        options.server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.close(1001, 'Server shutting down');
        // A peer that never answers the close handshake (a phone that lost its network)
        // must not hold shutdown for ws's 30 s: cut what is still open after a moment.
        const cut = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1_500);
        cut.unref();
        wss.close(() => {
          clearTimeout(cut);
          resolve();
        });
      }),
  };
}

/** A close reason within the protocol's 123 bytes, cut on a character boundary. */
export function closeReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > 120) out = out.slice(0, -1);
  return out;
}

/** One client socket: its state machine, its subscriptions and its send queue. */
class Connection<TAuth> {
  private auth: TAuth | undefined;
  private initReceived = false;
  private readonly subscriptions = new Map<string, SubscriptionHandle | 'starting'>();
  /** Latest undelivered result per subscription while the socket is over its high-water mark. */
  private readonly waiting = new Map<string, string>();
  private blockedSince: number | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Revocations heard while connection_init was being checked, applied once it is. */
  private heardDuringInit: Revocation[] | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly req: IncomingMessage,
    private readonly options: WsServerOptions<TAuth>,
    private readonly limits: WsLimits,
  ) {
    const initTimer = setTimeout(() => {
      if (!this.auth)
        this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, limits.connectionInitTimeoutMs);
    initTimer.unref();
    (ws as WebSocket & { isAlive?: boolean }).isAlive = true;
    ws.on('pong', () => {
      (ws as WebSocket & { isAlive?: boolean }).isAlive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.close(CloseCode.BadRequest, 'Binary messages are not supported');
        return;
      }
      this.onMessage(data.toString()).catch((err: unknown) => {
        options.logger.error({ err, ...this.requestFields() }, 'failed to handle a graphql-ws message');
        this.close(CloseCode.InternalServerError, 'Internal server error');
      });
    });
    ws.on('close', () => {
      clearTimeout(initTimer);
      clearTimeout(this.expiryTimer);
      this.dispose();
    });
    ws.on('error', (err) => options.logger.debug({ err, ...this.requestFields() }, 'websocket error'));
  }

  /** A socket must not outlive its token: 4403 when it expires, as at connect time. */
  private closeAtExpiry(expiresAt: Date | undefined): void {
    if (!expiresAt) return;
    // setTimeout holds at most about 24.8 days: longer waits are taken in steps.
    const wait = Math.min(expiresAt.getTime() - Date.now(), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(
      () => {
        if (Date.now() >= expiresAt.getTime()) this.close(CloseCode.Forbidden, 'Token has expired.');
        else this.closeAtExpiry(expiresAt);
      },
      Math.max(0, wait),
    );
    this.expiryTimer.unref();
  }

  /** Closes the socket with 4403 when the revocation refuses its credentials. */
  revoked(revocation: Revocation): void {
    if (this.auth === undefined) {
      if (this.initReceived) this.heardDuringInit = [...(this.heardDuringInit ?? []), revocation];
      return;
    }
    if (this.options.revocations?.refuses(this.auth, revocation)) {
      this.close(CloseCode.Forbidden, 'Token has been revoked.');
    }
  }

  private close(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.close(code, closeReason(reason));
    this.dispose();
  }

  private dispose(): void {
    this.closed = true;
    clearTimeout(this.flushTimer);
    for (const handle of this.subscriptions.values()) if (handle !== 'starting') handle.close();
    this.subscriptions.clear();
    this.waiting.clear();
  }

  private send(message: Message): void {
    if (!this.closed) this.ws.send(stringifyMessage(message));
  }

  private async onMessage(text: string): Promise<void> {
    let message: Message;
    try {
      message = parseMessage(text);
    } catch (error) {
      this.close(CloseCode.BadRequest, (error as Error).message);
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.initReceived) {
          this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          return;
        }
        this.initReceived = true;
        try {
          this.auth = await this.options.authenticate(message.payload ?? {}, this.req);
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') {
            this.close(CloseCode.Forbidden, error.message);
          } else {
            // Not the client's fault (e.g. the JWKS could not be fetched): a server error.
            this.options.logger.error({ err: error }, 'could not authenticate a graphql-ws connection');
            this.close(CloseCode.InternalServerError, 'Internal server error');
          }
          return;
        }
        for (const revocation of this.heardDuringInit ?? []) this.revoked(revocation);
        this.heardDuringInit = undefined;
        if (this.closed) return;
        this.closeAtExpiry(this.options.expiresAt?.(this.auth));
        this.send({ type: MessageType.ConnectionAck });
        return;
      }
      case MessageType.Ping:
        this.send({ type: MessageType.Pong });
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        await this.subscribe(message.id, message.payload);
        return;
      case MessageType.Complete: {
        const handle = this.subscriptions.get(message.id);
        this.subscriptions.delete(message.id);
        this.waiting.delete(message.id);
        if (handle && handle !== 'starting') handle.close();
        return;
      }
      default:
        this.close(CloseCode.BadRequest, `Unexpected message of type ${message.type}`);
    }
  }

  private async subscribe(
    id: string,
    payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  ): Promise<void> {
    const auth = this.auth;
    if (auth === undefined) {
      this.close(CloseCode.Unauthorized, 'Unauthorized');
      return;
    }
    if (this.subscriptions.has(id)) {
      this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return;
    }
    if (this.subscriptions.size >= this.limits.maxSubscriptionsPerConnection) {
      this.send({
        id,
        type: MessageType.Error,
        payload: [
          {
            message: `At most ${this.limits.maxSubscriptionsPerConnection} subscriptions per connection.`,
            extensions: { code: 'RATE_LIMITED' },
          },
        ],
      });
      return;
    }

    try {
      this.options.admitSource?.(payload.query);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const { http: _status, ...extensions } = error.extensions;
      this.send({ id, type: MessageType.Error, payload: [{ message: error.message, extensions }] });
      return;
    }
    let kind: string | undefined;
    try {
      kind = getOperationAST(
        parse(payload.query, { maxTokens: 5_000 }),
        payload.operationName ?? undefined,
      )?.operation;
    } catch {
      kind = undefined; // the engine reports the parse error with its code
    }
    if (kind === 'query' || kind === 'mutation') {
      this.subscriptions.set(id, 'starting');
      const result = await this.options.execute(payload, auth);
      if (!this.subscriptions.has(id) || this.closed) return;
      this.subscriptions.delete(id);
      if (!('data' in result) && result.errors?.length) {
        // Refused before it ran (parse, validation, limits): the protocol's `error`
        // message, which ends the operation, not a `next` result.
        this.send({ id, type: MessageType.Error, payload: [...result.errors] });
        return;
      }
      this.send({ id, type: MessageType.Next, payload: result as never });
      this.send({ id, type: MessageType.Complete });
      return;
    }

    // The envelope around a result is built once per subscription; results are spliced in.
    const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    try {
      const handle = this.options.engine.subscribe(
        { ...payload, ...this.options.identity(auth) },
        {
          next: (serialized) => this.deliver(id, `${prefix}${serialized}}`),
          error: (errors) => {
            this.subscriptions.delete(id);
            this.waiting.delete(id);
            this.send({ id, type: MessageType.Error, payload: errors as GraphQLFormattedError[] });
          },
          complete: () => {
            this.subscriptions.delete(id);
            this.waiting.delete(id);
            this.send({ id, type: MessageType.Complete });
          },
        },
      );
      if (this.closed) handle.close();
      else this.subscriptions.set(id, handle);
    } catch (error) {
      if (error instanceof SubscribeRefused) {
        this.send({ id, type: MessageType.Error, payload: error.errors as GraphQLFormattedError[] });
        return;
      }
      this.options.logger.error({ err: error, ...this.requestFields() }, 'subscribe failed');
      this.send({
        id,
        type: MessageType.Error,
        payload: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      });
    }
  }

  /** For a line about the connection: its request id (its subscriptions'), once it is authenticated. */
  private requestFields(): { requestId?: string } {
    return this.auth === undefined ? {} : { requestId: this.options.identity(this.auth).requestId };
  }

  /**
   * Writes a result, or, while the socket is backed up, keeps only the latest one
   * per subscription (results are full snapshots, so older ones are worthless).
   */
  private deliver(id: string, message: string): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount < this.limits.highWaterMarkBytes && this.waiting.size === 0) {
      this.ws.send(message);
      return;
    }
    this.waiting.set(id, message);
    this.blockedSince ??= Date.now();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.closed) return;
      if (this.ws.bufferedAmount < this.limits.highWaterMarkBytes) {
        const pending = [...this.waiting];
        this.waiting.clear();
        this.blockedSince = undefined;
        for (const [id, message] of pending) if (this.subscriptions.has(id)) this.ws.send(message);
        return;
      }
      if (Date.now() - (this.blockedSince ?? Date.now()) > this.limits.slowConsumerTimeoutMs) {
        this.options.metrics?.slowConsumerClosed();
        this.options.logger.warn(
          { buffered: this.ws.bufferedAmount, ...this.requestFields() },
          'closing a slow subscription consumer',
        );
        // The close frame queues behind the backlog; a peer that reads nothing never sees it.
        this.close(SLOW_CONSUMER_CLOSE_CODE, 'Slow consumer: results were not read in time');
        setTimeout(() => this.ws.terminate(), 1_000).unref();
        return;
      }
      this.scheduleFlush();
    }, 50);
  }
}
