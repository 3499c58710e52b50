DROP INDEX idx_training_jobs_failed;
