-- authdb migration 20261125000002_users (down)
--
-- Reverts 20261125000002_users.up.sql, in reverse order of creation (the
-- table's constraints go with the table).  Every user row is lost: this is a
-- destructive rollback.

DROP TRIGGER users_set_updated_at ON users;
DROP INDEX users_confirmed_phone_key;
DROP TABLE users;
