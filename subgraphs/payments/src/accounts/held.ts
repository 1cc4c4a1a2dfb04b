import type { Pool } from '@fitness/pg-kit';
import { ERASED_PREFIX } from '../datasources/PaymentsStore.js';

/**
 * Every user id payments holds data for (`GET /accounts/held`, read by the accounts
 * audit of users): memberships, payments and events still in the outbox. The
 * pseudonyms of erased accounts' records name nobody and are not listed.
 */
export async function heldUserIds(pool: Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ user_id: string }>(
    `SELECT user_id FROM (
       SELECT user_id FROM memberships
       UNION SELECT user_id FROM payments
       UNION SELECT payload->'payload'->>'userId' FROM outbox WHERE payload->'payload' ? 'userId'
     ) held WHERE NOT starts_with(user_id, $1)`,
    [ERASED_PREFIX],
  );
  return new Set(rows.map((r) => r.user_id));
}
