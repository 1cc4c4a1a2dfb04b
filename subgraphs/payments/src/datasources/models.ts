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

export type MembershipStatus = 'ACTIVE' | 'PAST_DUE' | 'CANCELED';

export interface MembershipRecord {
  id: string;
  userId: string;
  planId: string;
  status: MembershipStatus;
  currentPeriodEnd: Date;
  cancelAtPeriodEnd: boolean;
}

export type PaymentStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';

export interface PaymentRecord {
  id: string;
  userId: string;
  planId: string;
  membershipId: string | null;
  amountCents: number;
  currency: string;
  status: PaymentStatus;
  failureReason: string | null;
  requestHash: string;
  createdAt: Date;
  /** Exact (microsecond) creation time in UTC, for cursors. */
  createdAtKey: string;
}

export interface PaymentPage {
  edges: { cursor: string; node: PaymentRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
