DROP TABLE upload_chunks;
ALTER TABLE uploaded_files
    DROP CONSTRAINT uploaded_files_completed_check,
    DROP CONSTRAINT uploaded_files_chunks_received_check,
    DROP COLUMN completed_at,
    DROP COLUMN generation,
    DROP COLUMN chunks_received,
    DROP COLUMN chunks_expected;
