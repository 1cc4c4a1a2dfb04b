-- Plans on sale. Prices are integer minor units with an ISO-4217 currency code.
CREATE TABLE IF NOT EXISTS plans (
  id text PRIMARY KEY,
  name text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  billing_interval text NOT NULL CHECK (billing_interval IN ('MONTH', 'YEAR')),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO plans (id, name, price_cents, currency, billing_interval) VALUES
  ('premium-monthly-usd', 'Premium Monthly', 999, 'USD', 'MONTH'),
  ('premium-yearly-usd', 'Premium Yearly', 9999, 'USD', 'YEAR'),
  ('premium-monthly-eur', 'Premium Monthly', 899, 'EUR', 'MONTH'),
  ('premium-yearly-eur', 'Premium Yearly', 8999, 'EUR', 'YEAR')
ON CONFLICT (id) DO NOTHING;
