-- SCALE foundation schema: users, transactions, uploaded files, training jobs and corrections.

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    email       text UNIQUE,
    role        text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    currency    char(3) NOT NULL DEFAULT 'INR',
    timezone    text NOT NULL DEFAULT 'Asia/Kolkata',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE uploaded_files (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_hash    char(64) NOT NULL CHECK (file_hash ~ '^[0-9a-f]{64}$'),
    filename     text,
    upload_type  text NOT NULL CHECK (upload_type IN ('import', 'training', 'forecast')),
    row_count    integer CHECK (row_count >= 0),
    inserted     integer CHECK (inserted >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, file_hash, upload_type)
);
CREATE INDEX idx_uploaded_files_user_created ON uploaded_files (user_id, created_at DESC);

CREATE TABLE transactions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Statement-local calendar date: no timezone conversion (ingestion spec §1.5).
    transaction_date     date NOT NULL,
    amount               numeric(12, 2) NOT NULL CHECK (amount <> 0),
    currency             char(3) NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    type                 text NOT NULL CHECK (type IN ('credit', 'debit')),
    description          text NOT NULL DEFAULT '',
    merchant_name        text NOT NULL DEFAULT '',
    category             text NOT NULL DEFAULT 'Uncategorized',
    original_category    text,
    payment_method       text NOT NULL DEFAULT '',
    reference            text NOT NULL DEFAULT '',
    status               text NOT NULL DEFAULT 'completed'
                         CHECK (status IN ('completed', 'pending', 'refunded', 'cancelled', 'failed')),
    is_manual            boolean NOT NULL DEFAULT false,
    fingerprint          char(64) NOT NULL,
    fingerprint_version  smallint NOT NULL CHECK (fingerprint_version > 0),
    uploaded_file_id     uuid REFERENCES uploaded_files (id) ON DELETE SET NULL,
    raw_data             jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- The sign is the single source of truth for the type (ingestion spec §1.7).
    CHECK ((type = 'debit') = (amount < 0)),
    CONSTRAINT transactions_user_fingerprint_key UNIQUE (user_id, fingerprint)
);
-- User + date: keyset pagination (newest first, id breaks ties) and date-range scans alike
-- (a btree reads both ways, so a separate (user_id, transaction_date) index would be redundant
-- and would slow every import).
CREATE INDEX idx_transactions_user_keyset ON transactions (user_id, transaction_date DESC, id DESC);
CREATE INDEX idx_transactions_user_merchant ON transactions (user_id, merchant_name);
CREATE INDEX idx_transactions_user_amount ON transactions (user_id, amount);
-- Containment search over the statement's own columns (raw_data.source); the derived
-- raw_data.meta is left out: it repeats stored columns and would double the index's cost.
CREATE INDEX idx_transactions_raw_data ON transactions USING gin ((raw_data -> 'source') jsonb_path_ops);

CREATE TABLE training_jobs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('categorizer', 'forecaster')),
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
    progress      real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    metrics       jsonb,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  integer NOT NULL DEFAULT 3 CHECK (max_attempts > 0),
    lease_owner   text,
    lease_until   timestamptz,
    run_after     timestamptz NOT NULL DEFAULT now(),
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    -- A running job always holds a lease.
    CHECK (status <> 'processing' OR lease_until IS NOT NULL)
);
-- At most one active (pending or processing) job per user and kind.
CREATE UNIQUE INDEX uq_training_jobs_active ON training_jobs (user_id, kind)
    WHERE status IN ('pending', 'processing');
-- Claim queue: only pending rows, oldest eligible first.
CREATE INDEX idx_training_jobs_pending ON training_jobs (run_after, created_at) WHERE status = 'pending';
-- Reaper: running rows by lease expiry.
CREATE INDEX idx_training_jobs_lease ON training_jobs (lease_until) WHERE status = 'processing';
CREATE INDEX idx_training_jobs_user_created ON training_jobs (user_id, created_at DESC, id DESC);

CREATE TABLE training_corrections (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    transaction_id      uuid REFERENCES transactions (id) ON DELETE SET NULL,
    description         text NOT NULL,
    original_category   text,
    corrected_category  text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- One correction per corrected transaction (upserted); free-text feedback rows have no transaction.
CREATE UNIQUE INDEX uq_training_corrections_user_transaction ON training_corrections (user_id, transaction_id)
    WHERE transaction_id IS NOT NULL;
CREATE INDEX idx_training_corrections_user_created ON training_corrections (user_id, created_at DESC);
