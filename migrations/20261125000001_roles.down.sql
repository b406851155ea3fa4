-- authdb migration 20261125000001_roles (down)
--
-- Reverts 20261125000001_roles.up.sql: drops the roles table (with its seed
-- rows) and the shared updated_at trigger function, in reverse order of
-- creation.  No IF EXISTS: if an object is missing the schema has drifted and
-- the migration should fail loudly (the engine rolls the transaction back).

DROP TRIGGER roles_set_updated_at ON roles;
DROP TABLE roles;
DROP FUNCTION authdb_set_updated_at();
