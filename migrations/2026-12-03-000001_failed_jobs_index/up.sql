-- Health counts the jobs that failed in the last day on every probe (the ops dashboard shows
-- it): a partial index keeps that read proportional to the recent failures, not the table.
CREATE INDEX idx_training_jobs_failed ON training_jobs (finished_at) WHERE status = 'failed';
