DROP TRIGGER training_jobs_log_event ON training_jobs;
DROP TRIGGER training_jobs_sequence ON training_jobs;
DROP FUNCTION training_jobs_log_event();
DROP FUNCTION training_jobs_sequence();
DROP TABLE training_models;
DROP TABLE training_job_events;
DROP POLICY worker_queue ON training_jobs;
REVOKE ALL ON training_jobs FROM scale_worker;
REVOKE USAGE ON SCHEMA public FROM scale_worker;
ALTER TABLE training_jobs
    DROP COLUMN event_seq,
    DROP COLUMN message,
    DROP COLUMN total,
    DROP COLUMN step;
