export { type PgEngine, pgEngines, type TestDatabase } from './databases.js';
export {
  assertSingleResult,
  bearer,
  errorCodes,
  execute,
  postGraphQL,
  type SingleResult,
} from './graphql.js';
export { logLines } from './logs.js';
export { type ReceivedSpan, startOtlpReceiver } from './otlp.js';
export { freePort, hasNatsServer, hasRedisServer, OwnNatsServer, OwnRedisServer } from './ownServers.js';
export { type PrometheusSample, type PrometheusText, parsePrometheusText } from './prometheus.js';
export { seededRandom } from './random.js';
export {
  createTestDatabase,
  mongoUrlWithOwnDatabase,
  realService,
  type TestService,
  testServices,
  uniquePrefix,
} from './services.js';
export { ORDINARY_TEXT, REFUSED_CHARACTERS } from './text.js';
export { waitFor } from './wait.js';
