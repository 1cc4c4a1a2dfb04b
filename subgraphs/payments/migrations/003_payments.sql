-- Charges. One row per purchase attempt: (user_id, idempotency_key) is unique, so a
-- retried request finds its first attempt instead of charging again. request_hash
-- tells a genuine retry from a different request reusing the key.
CREATE TABLE IF NOT EXISTS payments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  plan_id text NOT NULL REFERENCES plans (id),
  membership_id uuid REFERENCES memberships (id),
  promo_code text,
  amount_cents integer NOT NULL CHECK (amount_cents >= 0),
  currency char(3) NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'REFUNDED')),
  failure_reason text,
  provider_ref text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, idempotency_key)
);

CREATE INDEX IF NOT EXISTS payments_by_user_newest ON payments (user_id, created_at DESC, id DESC);

-- Double-entry ledger: every settled payment writes entries that sum to zero per
-- payment and currency, so balances can be audited independently of payments rows.
CREATE TABLE IF NOT EXISTS ledger_entries (
  id bigserial PRIMARY KEY,
  payment_id uuid NOT NULL REFERENCES payments (id),
  account text NOT NULL CHECK (account IN ('cash', 'revenue', 'discounts')),
  amount_cents integer NOT NULL,
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ledger_entries_by_payment ON ledger_entries (payment_id);

-- Promo codes: a percentage off the first charge, with an optional end date and cap.
CREATE TABLE IF NOT EXISTS promo_codes (
  code text PRIMARY KEY CHECK (code = upper(code)),
  percent_off integer NOT NULL CHECK (percent_off BETWEEN 1 AND 100),
  valid_until timestamptz,
  max_redemptions integer CHECK (max_redemptions > 0),
  redemptions integer NOT NULL DEFAULT 0 CHECK (redemptions >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO promo_codes (code, percent_off, valid_until, max_redemptions) VALUES
  ('WELCOME10', 10, NULL, NULL),
  ('LAUNCH50', 50, NULL, 1000)
ON CONFLICT (code) DO NOTHING;
