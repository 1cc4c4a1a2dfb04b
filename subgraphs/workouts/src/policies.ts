import type { Pool } from '@fitness/pg-kit';
import type { Logger } from '@fitness/server-kit';

/**
 * TimescaleDB policies on the workouts data, applied at start-up after the
 * migrations (a migration cannot change once applied; these are deployment
 * settings). Idempotent: a policy that already has the configured interval is
 * left alone, one with another interval is replaced, so replicas starting with
 * the same configuration change nothing and a new configuration takes effect
 * on the next start. Plain PostgreSQL has no policies (see README, "Stats").
 */
export interface StoragePolicies {
  /** Compress workout_sets chunks older than this. @default '30 days' */
  compressSetsAfter: string;
  /** Drop workout_sets chunks older than this; null keeps sets forever. @default null */
  setRetention: string | null;
  /**
   * The continuous aggregate materializes days older than this; newer days are
   * aggregated from `workouts` at query time (real-time aggregation). @default '7 days'
   */
  statsRealtimeWindow: string;
}

/**
 * How often the refresh policy runs. Only changes older than the real-time window
 * wait for it (the store refreshes the day it touches below the watermark itself),
 * so it is a safety net and the step that moves the watermark forward.
 */
const REFRESH_EVERY = '30 minutes';

// Any constant; the same for every replica, distinct from pg-kit's migration lock.
const POLICY_LOCK_KEY = 7_311_004;

/**
 * Matches the jobs of the continuous aggregate: timescaledb_information.jobs names
 * the view itself in TimescaleDB 2.23 (PGlite) but its materialization hypertable
 * in some other 2.x releases; the job's config holds the hypertable's id in all.
 */
const REFRESH_JOB_OF_TOTALS = `(j.config->>'mat_hypertable_id')::integer = (
  SELECT mat_hypertable_id FROM _timescaledb_catalog.continuous_agg
   WHERE user_view_schema = current_schema() AND user_view_name = 'user_daily_totals')`;

interface PolicySpec {
  name: string;
  /** The configured interval of the existing policy, or no row. */
  current: string;
  remove: string;
  /** Takes the interval as $1; absent when the policy is disabled. */
  add?: string;
  interval: string | null;
}

const specs = (p: StoragePolicies): PolicySpec[] => [
  {
    name: 'refresh user_daily_totals',
    current: `SELECT (j.config->>'end_offset')::interval = $1::interval
                     AND j.schedule_interval = '${REFRESH_EVERY}'::interval AS same
                FROM timescaledb_information.jobs j
               WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND ${REFRESH_JOB_OF_TOTALS}`,
    remove: `SELECT remove_continuous_aggregate_policy('user_daily_totals', if_exists => true)`,
    // start_offset NULL: refresh looks back over all time, because an offline sync
    // may land years back; only invalidated ranges are recomputed, so it stays cheap.
    add: `SELECT add_continuous_aggregate_policy('user_daily_totals',
            start_offset => NULL, end_offset => $1::interval,
            schedule_interval => INTERVAL '${REFRESH_EVERY}')`,
    interval: p.statsRealtimeWindow,
  },
  {
    name: 'compress workout_sets',
    current: `SELECT (config->>'compress_after')::interval = $1::interval AS same
                FROM timescaledb_information.jobs
               WHERE hypertable_name = 'workout_sets' AND proc_name = 'policy_compression'`,
    remove: `SELECT remove_compression_policy('workout_sets', if_exists => true)`,
    add: `SELECT add_compression_policy('workout_sets', compress_after => $1::interval)`,
    interval: p.compressSetsAfter,
  },
  {
    name: 'retain workout_sets',
    current: `SELECT (config->>'drop_after')::interval = $1::interval AS same
                FROM timescaledb_information.jobs
               WHERE hypertable_name = 'workout_sets' AND proc_name = 'policy_retention'`,
    remove: `SELECT remove_retention_policy('workout_sets', if_exists => true)`,
    add: `SELECT add_retention_policy('workout_sets', drop_after => $1::interval)`,
    interval: p.setRetention,
  },
];

/** Creates, replaces or removes the policies so they match `policies`. */
export async function applyStoragePolicies(pool: Pool, policies: StoragePolicies, logger: Logger) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Replicas starting together would otherwise both remove and add a policy.
    await client.query('SELECT pg_advisory_xact_lock($1)', [POLICY_LOCK_KEY]);
    for (const spec of specs(policies)) {
      const { rows } = await client.query<{ same: boolean }>(spec.current, [spec.interval ?? '0']);
      const exists = rows.length > 0;
      if (spec.interval === null) {
        if (exists) {
          await client.query(spec.remove);
          logger.info({ policy: spec.name }, 'storage policy removed');
        }
        continue;
      }
      if (exists && rows[0]!.same) continue;
      if (exists) await client.query(spec.remove);
      await client.query(spec.add!, [spec.interval]);
      logger.info({ policy: spec.name, interval: spec.interval }, 'storage policy set');
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The ids of the jobs that keep the workouts data (refresh, compression, retention). */
export async function policyJobIds(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query<{ job_id: number }>(
    `SELECT j.job_id FROM timescaledb_information.jobs j
      WHERE j.hypertable_name = 'workout_sets' OR ${REFRESH_JOB_OF_TOTALS}
      ORDER BY j.job_id`,
  );
  return rows.map((r) => r.job_id);
}

/**
 * The embedded PGlite runs TimescaleDB without background workers: its policies
 * are registered but never scheduled (timescaledb_information.jobs shows no
 * next_start). This runs them in-process instead, now and then every `everyMs`,
 * one after another on the pool (PGlite serves one connection). A real
 * TimescaleDB server schedules them itself and does not need this.
 */
export function runPoliciesInProcess(pool: Pool, logger: Logger, everyMs = 30 * 60 * 1000) {
  let running: Promise<void> | undefined;
  const runAll = async () => {
    for (const jobId of await policyJobIds(pool)) {
      try {
        await pool.query('CALL run_job($1::integer)', [jobId]);
      } catch (err) {
        logger.warn({ err, jobId }, 'in-process TimescaleDB job failed; retrying at the next run');
      }
    }
  };
  const tick = () => {
    running ??= runAll()
      .catch((err) => logger.warn({ err }, 'in-process TimescaleDB jobs failed'))
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    /** Stops the timer and waits for a run in progress. */
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
