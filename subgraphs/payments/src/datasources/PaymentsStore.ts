import type { Pool } from '@fitness/pg-kit';
import type { PlanRecord } from './models.js';

/** The payments store port. One adapter, on `pg`: real PostgreSQL or embedded PGlite. */
export interface PaymentsStore {
  listPlans(): Promise<PlanRecord[]>;
  /** Plans by id, in key order; null where there is none. */
  plansByIds(ids: readonly string[]): Promise<(PlanRecord | null)[]>;
  /** Of the given users, those with an ACTIVE membership whose period has not ended. */
  premiumUserIds(userIds: readonly string[]): Promise<Set<string>>;
}

interface PlanRow {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  billing_interval: PlanRecord['interval'];
}

const toPlan = (row: PlanRow): PlanRecord => ({
  id: row.id,
  name: row.name,
  priceCents: row.price_cents,
  currency: row.currency,
  interval: row.billing_interval,
});

const PLAN_COLUMNS = 'id, name, price_cents, currency, billing_interval';

export class PgPaymentsStore implements PaymentsStore {
  constructor(private readonly pool: Pool) {}

  async listPlans(): Promise<PlanRecord[]> {
    const { rows } = await this.pool.query<PlanRow>(
      `SELECT ${PLAN_COLUMNS} FROM plans WHERE active ORDER BY price_cents, id`,
    );
    return rows.map(toPlan);
  }

  async plansByIds(ids: readonly string[]): Promise<(PlanRecord | null)[]> {
    const { rows } = await this.pool.query<PlanRow>(
      `SELECT ${PLAN_COLUMNS} FROM plans WHERE id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, toPlan(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async premiumUserIds(userIds: readonly string[]): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ user_id: string }>(
      `SELECT DISTINCT user_id FROM memberships
        WHERE user_id = ANY($1::text[]) AND status = 'ACTIVE' AND current_period_end > now()`,
      [userIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }
}
