/** A reference to a User entity owned by the users subgraph. */
export interface UserRef {
  id: string;
}

export type BillingInterval = 'MONTH' | 'YEAR';

export interface PlanRecord {
  id: string;
  name: string;
  priceCents: number;
  currency: string;
  interval: BillingInterval;
}
