import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer, BaseContext, HTTPGraphQLRequest } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { type Check, runCheck, runChecks } from './health.js';
import {
  type RequestScope,
  runInRequestScope,
  saneRequestId,
  traceIdOf,
  tracingEnabled,
} from './requestScope.js';
import { serveInSpan } from './tracing.js';

/** A plain route beside GraphQL: `'GET /health'`, `'POST /webhooks/payments'`. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

export interface HttpAppOptions<TContext extends BaseContext, TAuth> {
  logger: Logger;
  /** The GraphQL server, started. */
  apollo: ApolloServer<TContext>;
  /** @default '/graphql' */
  graphqlPath?: string;
  /**
   * Runs for every GraphQL request before its body is read: refusing here (a thrown
   * GraphQLError) costs the service nothing, e.g. a request that is not from the router.
   */
  admit?: (req: IncomingMessage) => void;
  /**
   * The id of each GraphQL request, once admitted: every log line written while it is
   * handled carries it (and the trace id). @default the x-request-id header, when sane
   */
  requestId?: (req: IncomingMessage) => string | undefined;
  /**
   * Whether log lines get the request's ids from an AsyncLocalStorage (see
   * runInRequestScope). On Node 20 an AsyncLocalStorage in use costs every promise
   * of the process a hook; a service that cannot afford it passes the ids to its
   * log lines itself. @default true
   */
  requestScope?: boolean;
  /**
   * Runs before GraphQL for every request. A thrown GraphQLError becomes the whole
   * response, with the status in `extensions.http.status` (e.g. 401 for a bad token).
   * `requestId` is the request's (see `requestId`), for a service without a request
   * scope to put on its lines.
   */
  authenticate: (req: IncomingMessage, requestId: string | undefined) => Promise<TAuth>;
  context: (auth: TAuth, req: IncomingMessage) => Promise<TContext> | TContext;
  /**
   * Sees every authenticated GraphQL request before Apollo does, with its parsed
   * body; returns true when it answered the request itself (e.g. subscriptions
   * over multipart HTTP, which Apollo Server cannot run on a gateway).
   */
  beforeGraphQL?: (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    auth: TAuth,
  ) => Promise<boolean> | boolean;
  /**
   * What GET /ready answers: true while the service's PRIMARY store takes requests.
   * Only that: a load balancer takes a service out on a false, and an outage of the
   * bus (the outbox holds events meanwhile) or of a cache must not take the API out.
   */
  ready: Check;
  /** Everything else the service talks to (event bus, Redis, caches): shown by GET /health. */
  dependencies?: Record<string, Check>;
  routes?: Record<string, RouteHandler>;
  /** Largest request body accepted, in bytes. @default 1_000_000 */
  maxBodyBytes?: number;
  /** Origins allowed by CORS; none by default (subgraphs are not called by browsers). */
  corsOrigins?: string[];
}

const NO_SCOPE: RequestScope = Object.freeze({});

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. `connection: close`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      reject(new HttpError(413, `Request body larger than ${maxBytes} bytes.`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // A chunked body announces no length: it is over the limit only once read this
        // far. Stop keeping it and answer 413 on a connection that then closes, so the
        // client reads an answer instead of a reset.
        req.off('data', onData);
        chunks.length = 0;
        // What still arrives is read and dropped while the answer goes out (closing
        // with unread input would reset the answer away), for a few seconds at most.
        req.resume();
        setTimeout(() => req.socket.destroy(), 5_000).unref();
        reject(new HttpError(413, `Request body larger than ${maxBytes} bytes.`, { connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(body);
}

/**
 * A GraphQL error answered before any operation runs (a bad token, an oversized
 * body, a refused transport). Clients that accept `application/graphql-response+json`
 * get that media type, with the status kept: Apollo Client then reads the body as
 * GraphQL errors (UNAUTHENTICATED...) instead of an opaque server error.
 */
function sendRequestError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  errors: { message: string; extensions: Record<string, unknown> }[],
  headers: Record<string, string> = {},
) {
  const graphqlResponse = /application\/graphql-response\+json/i.test(req.headers.accept ?? '');
  const body = JSON.stringify({ errors });
  res.writeHead(status, {
    ...headers,
    'content-type': graphqlResponse
      ? 'application/graphql-response+json; charset=utf-8'
      : 'application/json; charset=utf-8',
  });
  res.end(body);
}

function sendGraphQLError(req: IncomingMessage, res: ServerResponse, error: GraphQLError) {
  const http = error.extensions.http as { status?: number } | undefined;
  const { http: _omit, ...extensions } = error.extensions;
  sendRequestError(req, res, http?.status ?? 400, [{ message: error.message, extensions }]);
}

function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

/** An allowed origin matches exactly, or by any port when it ends in `:*` (`http://localhost:*`). */
function originAllowed(origin: string, origins: string[]): boolean {
  for (const allowed of origins) {
    if (allowed === '*' || allowed === origin) return true;
    if (allowed.endsWith(':*')) {
      const base = allowed.slice(0, -1);
      if (origin.startsWith(base) && /^\d{1,5}$/.test(origin.slice(base.length))) return true;
    }
  }
  return false;
}

function applyCors(req: IncomingMessage, res: ServerResponse, origins: string[]): void {
  const origin = req.headers.origin;
  if (!origin || !originAllowed(origin, origins)) return;
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'origin');
  res.setHeader('access-control-allow-credentials', 'true');
  res.setHeader(
    'access-control-allow-headers',
    'content-type, authorization, apollographql-client-name, apollographql-client-version, apollo-require-preflight, x-apollo-operation-name',
  );
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
  res.setHeader('access-control-max-age', '600');
}

/**
 * The HTTP side of a service, on node:http alone: GraphQL on one path, /health
 * (the process is up), /ready (its stores answer), and any extra routes.
 * Returns a server that is not listening yet.
 */
export function createHttpApp<TContext extends BaseContext, TAuth>(
  options: HttpAppOptions<TContext, TAuth>,
): Server {
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const routes = options.routes ?? {};
  const { logger } = options;
  const requestIdOf =
    options.requestId ?? ((req: IncomingMessage) => saneRequestId(req.headers['x-request-id']));
  const useScope = options.requestScope ?? true;

  async function handleGraphQL(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    raw: Buffer,
    requestId: string | undefined,
  ) {
    let body: unknown;
    if (req.method === 'POST') {
      const type = req.headers['content-type'] ?? '';
      if (type.includes('application/json') || type.includes('application/graphql-response+json')) {
        try {
          body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        } catch {
          throw new HttpError(400, 'The request body is not valid JSON.');
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    const auth = await options.authenticate(req, requestId);
    if (options.beforeGraphQL && (await options.beforeGraphQL(req, res, body, auth))) return;
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: req.method ?? 'GET',
      headers: headerMapOf(req),
      search: url.search,
      body,
    };
    const result = await options.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => options.context(auth, req),
    });
    for (const [key, value] of result.headers) res.setHeader(key, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse, scope: RequestScope) {
    const url = requestUrl(req);
    // Chosen once the request is admitted, scope or not: the error line below names it too.
    let requestId: string | undefined;
    try {
      if (options.corsOrigins?.length) applyCors(req, res, options.corsOrigins);
      if (req.method === 'OPTIONS') {
        res.writeHead(204).end();
        return;
      }
      if (url.pathname === '/health' && req.method === 'GET') {
        // 200 while the process runs, whatever its dependencies say: they are details.
        const checks = await runChecks(options.dependencies ?? {});
        const dependencies = Object.fromEntries(
          Object.entries(checks).map(([name, up]) => [name, up ? 'up' : 'down']),
        );
        sendJson(res, 200, { status: 'ok', dependencies });
        return;
      }
      if (url.pathname === '/ready' && req.method === 'GET') {
        const ready = await runCheck(options.ready);
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' });
        return;
      }
      const route = routes[`${req.method} ${url.pathname}`];
      if (route) {
        await route(req, res, await readBody(req, maxBodyBytes));
        return;
      }
      if (url.pathname === graphqlPath && (req.method === 'GET' || req.method === 'POST')) {
        options.admit?.(req);
        requestId = requestIdOf(req);
        if (useScope) {
          scope.requestId = requestId;
          scope.traceId = traceIdOf(req.headers);
        }
        const body = req.method === 'POST' ? await readBody(req, maxBodyBytes) : Buffer.alloc(0);
        // Only a request that was admitted continues the caller's trace.
        if (tracingEnabled())
          await serveInSpan(req, res, url.pathname, () => handleGraphQL(req, res, url, body, requestId));
        else await handleGraphQL(req, res, url, body, requestId);
        return;
      }
      sendJson(res, 404, { error: 'Not found' });
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof GraphQLError) {
        sendGraphQLError(req, res, error);
      } else if (error instanceof HttpError) {
        sendRequestError(
          req,
          res,
          error.status,
          [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }],
          error.headers,
        );
      } else {
        logger.error({ err: error, path: url.pathname, requestId }, 'unhandled error in HTTP handler');
        sendRequestError(req, res, 500, [
          { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
        ]);
      }
    }
  }

  const server = createServer((req, res) => {
    // Without a scope, one empty object for every request: nothing is written to it.
    if (!useScope) return handle(req, res, NO_SCOPE);
    // Filled in once the request is admitted; log lines written meanwhile carry nothing.
    const scope: RequestScope = {};
    return runInRequestScope(scope, () => handle(req, res, scope));
  });
  server.keepAliveTimeout = IDLE_KEEP_ALIVE_MS;
  trackResponses(server);
  return server;
}

/** The responses a server has not finished yet, for the servers `trackResponses` was given. */
const openResponses = new WeakMap<Server, Set<ServerResponse>>();
/** The servers `closeHttpServer` is closing. */
const closing = new WeakSet<Server>();

/**
 * Lets `closeHttpServer` end every keep-alive connection once its response is
 * written, instead of leaving a connection that was busy at the close open until
 * the grace period cuts it.
 */
export function trackResponses(server: Server): void {
  if (openResponses.has(server)) return;
  const open = new Set<ServerResponse>();
  openResponses.set(server, open);
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing.has(server)) {
      endConnectionAfter(server, res);
      return;
    }
    open.add(res);
    res.once('close', () => open.delete(res));
  });
}

/**
 * The connection of `res` closes once `res` is written: `Connection: close` when
 * its headers are still to be sent, else the idle connection is closed right after.
 */
function endConnectionAfter(server: Server, res: ServerResponse): void {
  if (!res.headersSent) {
    res.shouldKeepAlive = false;
    return;
  }
  res.once('close', () => setImmediate(() => server.closeIdleConnections()));
}

/**
 * How long an idle keep-alive connection stays open: longer than the router keeps one
 * to a subgraph (10 s) and than common load balancers keep theirs (60 s), so that the
 * client side always closes first. With Node's 5 s, a request sent on a connection the
 * server was closing at that moment failed with a socket error (UND_ERR_SOCKET),
 * mutations included, which nobody may send again.
 */
export const IDLE_KEEP_ALIVE_MS = 65_000;

/**
 * The request's path and query as a URL. Never throws: `new URL('//x', base)` does
 * for some request targets a client may send, and an exception here would escape
 * the request handler.
 */
export function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    const raw = req.url ?? '/';
    const at = raw.indexOf('?');
    const url = new URL('http://localhost/');
    url.pathname = encodeURI(at === -1 ? raw : raw.slice(0, at)).replace(/^\/+/, '/');
    return url;
  }
}

/** Listens and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections and waits for in-flight requests; idle keep-alive
 * sockets are closed at once. On a server `trackResponses` was given (every
 * `createHttpApp` server) a busy connection closes as soon as its response is
 * written; what is still busy after `graceMs` is cut.
 */
export function closeHttpServer(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    closing.add(server);
    for (const res of openResponses.get(server) ?? []) endConnectionAfter(server, res);
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      closing.delete(server);
      resolve();
    });
    server.closeIdleConnections();
  });
}
