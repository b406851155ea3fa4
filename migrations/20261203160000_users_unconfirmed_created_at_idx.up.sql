-- authdb:no-transaction
-- authdb migration 20261203160000_users_unconfirmed_created_at_idx (up)
--
-- The unconfirmed users in creation order: purge_expired_email_verification_tokens
-- walks it in batches to find the abandoned registrations (before, each purge
-- scanned users).  Partial: confirmed users, the bulk of the table, are not
-- in it; a registration adds one entry, its verification removes it.
--
-- Built CONCURRENTLY (outside a transaction), so registrations go on while
-- it builds.  A run that fails leaves an INVALID index; the rerun drops it
-- first (IF EXISTS below is for that case only).
DROP INDEX CONCURRENTLY IF EXISTS users_unconfirmed_created_at_idx;
CREATE INDEX CONCURRENTLY users_unconfirmed_created_at_idx
    ON users (created_at, id)
    WHERE email_confirmed_at IS NULL;
