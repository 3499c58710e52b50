-- Health reports when a worker last claimed a job (max(started_at)) on every probe: an index
-- keeps that read O(1) however many jobs the table holds.
CREATE INDEX idx_training_jobs_started ON training_jobs (started_at) WHERE started_at IS NOT NULL;
