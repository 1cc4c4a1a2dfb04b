export { logLevel, nodeEnv, optionalUrl, parseConfig, port, z } from './config.js';
export * from './errors.js';
export { createFormatError } from './formatError.js';
export {
  closeHttpServer,
  createHttpApp,
  type HttpAppOptions,
  HttpError,
  listen,
  type RouteHandler,
  readBody,
  requestUrl,
  sendJson,
} from './http.js';
export { exitOnStartupError, runUntilSignal, type Service } from './lifecycle.js';
export { createLogger, type Logger } from './logger.js';
export { DateTimeScalar } from './scalars.js';
export { type Served, type ServeOptions, serve } from './serve.js';
export { createSubgraphServer, loadSchemaDocument, type SubgraphServerOptions } from './subgraph.js';
export { type TextKind, type TextRules, validateText } from './text.js';
