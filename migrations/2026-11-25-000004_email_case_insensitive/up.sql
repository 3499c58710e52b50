-- E-mail addresses are unique whatever their case: the service stores them trimmed and
-- lower-case, and a unique index on lower(email) replaces the case-sensitive constraint.
--
-- Existing rows are normalised the same way first. Addresses that then collide (differing only
-- by case or surrounding whitespace) stay with the oldest user (created_at, then id); the
-- others' email is cleared (NULL), so the migration never fails on them and those users can set
-- an address again. An address that is blank once trimmed becomes NULL too.
--
-- The tables' owner is subject to row-level security (FORCE) and would see no rows here, so
-- FORCE is lifted for the rewrite and restored in the same transaction.

ALTER TABLE users NO FORCE ROW LEVEL SECURITY;

UPDATE users SET email = NULL
WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (
            PARTITION BY lower(btrim(email, E' \t\r\n'))
            ORDER BY created_at, id
        ) AS rank
        FROM users
        WHERE email IS NOT NULL
    ) AS ranked
    WHERE rank > 1
);

UPDATE users SET email = NULLIF(lower(btrim(email, E' \t\r\n')), '')
WHERE email IS DISTINCT FROM NULLIF(lower(btrim(email, E' \t\r\n')), '');

ALTER TABLE users FORCE ROW LEVEL SECURITY;

ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
