DROP INDEX idx_transactions_needs_review;
ALTER TABLE transactions
    DROP COLUMN needs_review,
    DROP COLUMN category_confidence,
    DROP COLUMN category_source;
