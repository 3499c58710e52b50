-- Training runtime: job progress columns, the persisted event log (SSE resume), fitted models,
-- and the `scale_worker` role that claims and reaps any user's jobs.
--
-- Every change of a job's visible state (status, step, total, progress, message) bumps its
-- `event_seq` and appends a row to training_job_events in the same statement (triggers), so
-- the log can never disagree with the job and per-job sequence numbers are gap-free.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scale_worker') THEN
        BEGIN
            CREATE ROLE scale_worker NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'scale_worker', 'MEMBER') THEN
        EXECUTE format('GRANT scale_worker TO %I', current_user);
    END IF;
END
$$;

ALTER TABLE training_jobs
    ADD COLUMN step      integer NOT NULL DEFAULT 0 CHECK (step >= 0),
    ADD COLUMN total     integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    ADD COLUMN message   text NOT NULL DEFAULT '',
    ADD COLUMN event_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE training_job_events (
    job_id      uuid NOT NULL REFERENCES training_jobs (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      text NOT NULL,
    step        integer NOT NULL,
    total       integer NOT NULL,
    progress    real NOT NULL,
    message     text NOT NULL,
    metrics     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE training_models (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('categorizer', 'forecaster')),
    job_id      uuid NOT NULL UNIQUE REFERENCES training_jobs (id) ON DELETE CASCADE,
    format      text NOT NULL,
    artefact    bytea NOT NULL,
    metrics     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_training_models_user_kind ON training_models (user_id, kind, created_at DESC);

CREATE FUNCTION training_jobs_sequence() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.event_seq := 1;
    ELSIF (NEW.status, NEW.step, NEW.total, NEW.progress, NEW.message)
          IS DISTINCT FROM (OLD.status, OLD.step, OLD.total, OLD.progress, OLD.message) THEN
        NEW.event_seq := OLD.event_seq + 1;
        NEW.updated_at := now();
    ELSE
        NEW.event_seq := OLD.event_seq;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION training_jobs_log_event() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.event_seq <> OLD.event_seq THEN
        INSERT INTO training_job_events
            (job_id, seq, user_id, status, step, total, progress, message, metrics)
        VALUES
            (NEW.id, NEW.event_seq, NEW.user_id, NEW.status, NEW.step, NEW.total, NEW.progress,
             NEW.message, CASE WHEN NEW.status = 'completed' THEN NEW.metrics END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER training_jobs_sequence BEFORE INSERT OR UPDATE ON training_jobs
    FOR EACH ROW EXECUTE FUNCTION training_jobs_sequence();
CREATE TRIGGER training_jobs_log_event AFTER INSERT OR UPDATE ON training_jobs
    FOR EACH ROW EXECUTE FUNCTION training_jobs_log_event();

-- Users see and write only their own rows (same policy as every user table).
GRANT SELECT, INSERT, UPDATE, DELETE ON training_job_events, training_models TO scale_app;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['training_job_events', 'training_models'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY user_isolation ON %I '
            'USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())', t);
    END LOOP;
END
$$;

-- The worker role sees every job (to claim and reap across users) and may log their events;
-- it reads no other user table. It is used with `SET LOCAL ROLE scale_worker` inside the
-- claiming and reaping transactions only.
GRANT USAGE ON SCHEMA public TO scale_worker;
GRANT SELECT, UPDATE ON training_jobs TO scale_worker;
GRANT INSERT ON training_job_events TO scale_worker;
CREATE POLICY worker_queue ON training_jobs TO scale_worker USING (true) WITH CHECK (true);
CREATE POLICY worker_log ON training_job_events FOR INSERT TO scale_worker WITH CHECK (true);
