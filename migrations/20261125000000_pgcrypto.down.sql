-- authdb migration 20261125000000_pgcrypto (down)
--
-- Deliberately drops nothing.  pgcrypto and the authdb_extensions schema are
-- database-wide and shared: other authdb installs (in other schemas) and
-- other applications may depend on them, and the extension may have existed
-- before authdb.  Remove them by hand once nothing uses them:
--   DROP EXTENSION pgcrypto;  DROP SCHEMA authdb_extensions;
SELECT 1;
