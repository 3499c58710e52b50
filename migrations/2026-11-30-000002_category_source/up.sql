-- What decided each transaction's category (categorisation spec §4.7, issue #13): the user's
-- correction (`user`), a rule, the global or per-user model, the client that sent the row, a
-- manual edit, or nothing confident enough (`fallback`, the category stays `Uncategorized`).
-- Constant defaults: adding the columns rewrites no row.
ALTER TABLE transactions
    ADD COLUMN category_source text NOT NULL DEFAULT 'fallback'
        CHECK (category_source IN ('rule', 'model', 'user', 'client', 'fallback', 'manual')),
    ADD COLUMN category_confidence real
        CHECK (category_confidence >= 0 AND category_confidence <= 1),
    ADD COLUMN needs_review boolean NOT NULL DEFAULT false;

UPDATE transactions SET category_source = 'manual' WHERE is_manual;

-- The rows a person should look at, per user.
CREATE INDEX idx_transactions_needs_review ON transactions (user_id) WHERE needs_review;
