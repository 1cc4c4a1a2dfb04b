import { failSpan, tracer, tracingEnabled } from '@fitness/server-kit';
import { SpanKind } from '@opentelemetry/api';
import type pg from 'pg';

/** The SQL verb of a statement, for the span's name: `SELECT`, `INSERT`, `BEGIN`... */
function operationOf(text: string): string {
  return /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
}

type Query = (...args: unknown[]) => unknown;

/**
 * `query` of a pool or a checked-out client, in a CLIENT span `pg <VERB>` with
 * db.system, db.query.text (the statement with its placeholders, never the values)
 * and db.operation.name, while tracing; the plain call otherwise. Promise and
 * callback forms both end the span when the statement does.
 */
function tracedQuery(query: Query, database: string): Query {
  return function (this: unknown, ...args: unknown[]) {
    if (!tracingEnabled()) return query.apply(this, args);
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const operation = operationOf(text);
    const span = tracer().startSpan(`pg ${operation}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.namespace': database,
        'db.operation.name': operation,
        'db.query.text': text,
      },
    });
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
        if (error) failSpan(span, error);
        span.end();
        return (last as (...a: unknown[]) => unknown)(error, ...rest);
      };
      return query.apply(this, args);
    }
    const result = query.apply(this, args) as Promise<unknown> | undefined;
    if (!result || typeof result.then !== 'function') {
      span.end();
      return result;
    }
    return result.then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failSpan(span, error);
        span.end();
        throw error;
      },
    );
  };
}

/**
 * Spans for the statements of a pool: `pool.query` directly, and those of clients
 * the service checks out (`pool.connect()`: transactions), each through a view of
 * the client whose `query` is traced. The pool's own use of its clients (inside
 * pool.query) is not traced twice. Costs nothing per statement while tracing is off
 * but one boolean check.
 */
export function tracePool(pool: pg.Pool, database: string): pg.Pool {
  const query = pool.query as unknown as Query;
  (pool as unknown as { query: Query }).query = tracedQuery(query, database);
  const connect = pool.connect.bind(pool) as (callback?: unknown) => Promise<pg.PoolClient> | undefined;
  (pool as unknown as { connect: typeof connect }).connect = (callback?: unknown) => {
    // pg-pool's own pool.query checks out with a callback: that path is traced above.
    if (callback !== undefined || !tracingEnabled()) return connect(callback);
    return connect()!.then((client) => {
      const traced = tracedQuery(client.query as unknown as Query, database);
      return new Proxy(client, {
        get(target, property, receiver) {
          if (property === 'query') return (...args: unknown[]) => traced.apply(target, args);
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    });
  };
  return pool;
}
