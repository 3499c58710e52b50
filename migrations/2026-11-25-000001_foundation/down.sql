DROP TABLE IF EXISTS training_corrections;
DROP TABLE IF EXISTS training_jobs;
DROP TABLE IF EXISTS transactions;
DROP TABLE IF EXISTS uploaded_files;
DROP TABLE IF EXISTS users;
