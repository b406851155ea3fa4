-- authdb migration 20261125000000_pgcrypto (up)
--
-- Makes pgcrypto (gen_random_bytes(), the entropy of verification tokens)
-- available before any authdb function is created.
--
-- pgcrypto is a database-wide resource: one copy serves every install in the
-- database.  When it is missing, it is created in a schema of its own,
-- authdb_extensions, rather than in the target schema, so that
--   * installs in several schemas stay independent (dropping one install's
--     schema cannot take the extension away from another), and
--   * every install's functions pin the same search_path:
--       <target schema>, authdb_extensions, pg_temp
--     (the engine adds the schema holding pgcrypto to the search_path of
--     every later migration, and the functions capture it with
--     SET search_path FROM CURRENT).
-- When the database already has pgcrypto, in whatever schema, it is used as
-- it is; that schema then appears in the functions' search_path instead.
--
-- This file runs in its own migration, before 20261125000001_roles, so that
-- every authdb function is created with the extension's schema on its path.
-- pgcrypto is a trusted extension: a database owner may create it.

CREATE SCHEMA IF NOT EXISTS authdb_extensions;
COMMENT ON SCHEMA authdb_extensions IS 'Extensions used by authdb (pgcrypto), shared by every authdb install in this database.';
CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA authdb_extensions;
