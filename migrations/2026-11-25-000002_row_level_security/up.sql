-- Row-level security: every user table shows and accepts only the rows of the user named by the
-- transaction-local setting `app.user_id` (set with `set_config('app.user_id', …, true)` at the
-- start of each user-scoped transaction). Without the setting nothing is visible or writable.
--
-- The service's pooled connections run `SET ROLE scale_app` right after connecting, so RLS
-- applies to them even when DATABASE_URL names a superuser or the tables' owner; migrations keep
-- running as the connecting (owner) user. Superusers and BYPASSRLS roles always bypass RLS.
--
-- Cross-user work to come (the training-job worker claiming any user's pending job, the lease
-- reaper) cannot run as scale_app without a user context. Give it its own role then — e.g. a
-- `scale_worker` with a policy on training_jobs alone, or a SECURITY DEFINER claim function
-- that returns the job's user_id — rather than widening these policies.

-- Roles are cluster-wide and several databases (tests) share the cluster: create it once, and
-- tolerate another database's migration creating it at the same moment.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scale_app') THEN
        BEGIN
            CREATE ROLE scale_app NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- The migrating user must be able to `SET ROLE scale_app` (superusers always can).
    IF NOT pg_has_role(current_user, 'scale_app', 'MEMBER') THEN
        EXECUTE format('GRANT scale_app TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO scale_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON users, transactions, uploaded_files, training_jobs, training_corrections
    TO scale_app;

-- The user of the current transaction, or NULL when none is set. Once a session has set the
-- variable, it reads '' (not NULL) after the transaction ends; NULLIF makes both mean "nobody".
-- A plain STABLE SQL function: inlined, so policies still use the (user_id, …) indexes.
CREATE FUNCTION app_user_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY user_isolation ON users
    USING (id = app_user_id()) WITH CHECK (id = app_user_id());

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['transactions', 'uploaded_files', 'training_jobs', 'training_corrections'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY user_isolation ON %I '
            'USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())', t);
    END LOOP;
END
$$;
