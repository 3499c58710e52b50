-- Undoes row-level security in this database. The scale_app role is cluster-wide and may still
-- be used by other databases, so it is left in place (drop it by hand once no database uses it).

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'transactions', 'uploaded_files', 'training_jobs', 'training_corrections'] LOOP
        EXECUTE format('DROP POLICY IF EXISTS user_isolation ON %I', t);
        EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

DROP FUNCTION IF EXISTS app_user_id();

REVOKE SELECT, INSERT, UPDATE, DELETE
    ON users, transactions, uploaded_files, training_jobs, training_corrections
    FROM scale_app;
REVOKE USAGE ON SCHEMA public FROM scale_app;
