-- Chunked JSON imports (issue #13 item 8): the web client posts a large file as JSON chunks that
-- share the file's hash. Such an upload is open (in progress) until every chunk is stored, and
-- only then counts as imported. Unchunked uploads are complete when their row is written.
--
-- `generation` grows each time an upload starts over (`?force=true`), so the chunks of an
-- earlier round can never be counted in a later one. The constraints keep the bookkeeping
-- honest: an upload is complete exactly when it has received all its chunks.
ALTER TABLE uploaded_files
    ADD COLUMN chunks_expected integer CHECK (chunks_expected >= 1),
    ADD COLUMN chunks_received integer NOT NULL DEFAULT 0,
    ADD COLUMN generation      integer NOT NULL DEFAULT 0 CHECK (generation >= 0),
    ADD COLUMN completed_at    timestamptz DEFAULT now(),
    ADD CONSTRAINT uploaded_files_chunks_received_check
        CHECK (chunks_received BETWEEN 0 AND coalesce(chunks_expected, 0)),
    ADD CONSTRAINT uploaded_files_completed_check
        CHECK ((completed_at IS NULL) = (chunks_received < coalesce(chunks_expected, 0)));

UPDATE uploaded_files SET completed_at = created_at;

-- The chunks an open (or completed) chunked upload has stored, one row per chunk index and
-- round; `rows_hash` (SHA-256 of the chunk's rows as sent) tells a retried chunk from another
-- one claiming the same index.
CREATE TABLE upload_chunks (
    uploaded_file_id  uuid NOT NULL REFERENCES uploaded_files (id) ON DELETE CASCADE,
    generation        integer NOT NULL,
    chunk_index       integer NOT NULL CHECK (chunk_index >= 0),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rows_hash         char(64) NOT NULL CHECK (rows_hash ~ '^[0-9a-f]{64}$'),
    received_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (uploaded_file_id, generation, chunk_index)
);

-- Users see and write only their own rows (same policy as every user table).
GRANT SELECT, INSERT, UPDATE, DELETE ON upload_chunks TO scale_app;
ALTER TABLE upload_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE upload_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY user_isolation ON upload_chunks
    USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());
