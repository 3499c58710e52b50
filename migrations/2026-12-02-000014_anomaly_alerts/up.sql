-- Anomaly alerts (categorization spec §7.2–7.3, issue #14): what the explainable detectors
-- raised for a user, and the user's detector thresholds.
--
-- An alert's `id` is its stable identity, `sha256(type|sorted transaction ids|period_key)` in
-- hex: a re-run on the same data raises the same ids, and an insert of an id the user already
-- has does nothing, so a re-run never raises an alert twice nor turns a seen or dismissed one
-- back into a new one. Period alerts hash no transaction ids, so two users can share an id: the
-- key is (user_id, id).
CREATE TABLE anomaly_alerts (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id               char(64) NOT NULL CHECK (id ~ '^[0-9a-f]{64}$'),
    -- The paging tie-breaker (keyset cursors carry a uuid).
    row_id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    type             text NOT NULL CHECK (type IN ('merchant_amount_outlier', 'new_merchant_large',
                         'duplicate_charge', 'category_spike', 'subscription_price_change',
                         'daily_spend_spike', 'missed_income')),
    severity         text NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    status           text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'seen', 'dismissed')),
    transaction_ids  uuid[] NOT NULL,
    period_key       text NOT NULL,
    -- The day the alert concerns.
    date             date NOT NULL,
    -- The amount at stake, signed like a transaction.
    amount           float8 NOT NULL,
    currency         char(3) NOT NULL DEFAULT 'INR',
    -- The merchant as shown, and its §7.2 key ('' when the alert is about no merchant).
    merchant         text,
    merchant_key     text NOT NULL DEFAULT '',
    category         text,
    score            float8 NOT NULL,
    message          text NOT NULL,
    details          jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, id)
);

-- The keyset list: newest day first, then row_id; with and without a status filter.
CREATE INDEX anomaly_alerts_list ON anomaly_alerts (user_id, date DESC, row_id DESC);
CREATE INDEX anomaly_alerts_status_list
    ON anomaly_alerts (user_id, status, date DESC, row_id DESC);
-- Dismissed merchant outliers, which suppress new ones at the merchant for 90 days.
CREATE INDEX anomaly_alerts_suppressing
    ON anomaly_alerts (user_id, merchant_key, updated_at)
    WHERE type = 'merchant_amount_outlier' AND status = 'dismissed';

-- A user's detector thresholds (`Thresholds` as JSON; missing keys take the defaults).
CREATE TABLE anomaly_settings (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    thresholds  jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Users see and write only their own rows (same policy as every user table).
GRANT SELECT, INSERT, UPDATE, DELETE ON anomaly_alerts, anomaly_settings TO scale_app;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['anomaly_alerts', 'anomaly_settings'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY user_isolation ON %I '
            'USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())', t);
    END LOOP;
END
$$;
