-- authdb:no-transaction
-- authdb migration 20261203160000_users_unconfirmed_created_at_idx (down)
--
-- Reverts 20261203160000_users_unconfirmed_created_at_idx.up.sql; the purge
-- then scans users again.
DROP INDEX CONCURRENTLY users_unconfirmed_created_at_idx;
