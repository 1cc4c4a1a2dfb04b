-- Stale PENDING attempts (their request died before settling) are found by age, by the
-- sweeper that settles them with the provider. A partial index keeps that look-up cheap
-- however many settled payments there are; the lazy check of a new purchase reads the
-- user's own rows through payments_by_user_newest.
CREATE INDEX IF NOT EXISTS payments_pending_by_age ON payments (created_at, id) WHERE status = 'PENDING';
