-- Back to the case-sensitive constraint; addresses cleared or lower-cased by up.sql stay so.
DROP INDEX users_email_lower_key;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
