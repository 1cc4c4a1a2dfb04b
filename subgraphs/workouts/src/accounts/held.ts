import type { Pool } from '@fitness/pg-kit';
import type { LeaderboardStore } from '../leaderboards/LeaderboardStore.js';

/**
 * Every user id workouts holds data for (`GET /accounts/held`, read by the accounts
 * audit of users): workouts, sets, their ids, daily totals (materialized ones
 * included), events still in the outbox, and board entries. Erased accounts are
 * not listed: their ids are kept on purpose (erased_users), nothing else of them.
 * Scans whole tables: an operator's occasional check, not a request path.
 */
export async function heldUserIds(pool: Pool, boards: LeaderboardStore): Promise<Set<string>> {
  const { rows } = await pool.query<{ user_id: string }>(
    `SELECT user_id FROM workouts
      UNION SELECT user_id FROM workout_sets
      UNION SELECT user_id FROM workout_ids
      UNION SELECT user_id FROM user_daily_totals
      UNION SELECT payload->'payload'->>'userId' FROM outbox WHERE payload->'payload' ? 'userId'`,
  );
  const ids = await boards.userIds();
  for (const row of rows) ids.add(row.user_id);
  return ids;
}
