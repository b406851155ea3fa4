-- authdb migration 20261125000002_users (down)
--
-- Reverts 20261125000002_users.up.sql, in reverse order of creation (the
-- table's constraints go with the table, then the canonical e-mail form's
-- functions; the encoding check of the up file creates nothing).  Every user
-- row is lost: this is a destructive rollback.

DROP TRIGGER users_set_updated_at ON users;
DROP FUNCTION authdb_check_email_import(text[], boolean);
DROP INDEX users_confirmed_phone_key;
DROP TABLE users;
DROP FUNCTION authdb_require_canonical_email(text);
DROP FUNCTION canonical_email(text);
DROP FUNCTION authdb_email_ascii_canonical(text);
DROP FUNCTION authdb_email_is_ascii_canonical(text);
DROP FUNCTION authdb_email_canonical_once(text);
DROP FUNCTION authdb_email_canonical_domain(text);
DROP FUNCTION authdb_email_map_domain(text);
DROP FUNCTION authdb_punycode_decode(text);
DROP FUNCTION authdb_require_text_fits(text, text, integer, text);
DROP FUNCTION authdb_text_fits(text, integer);
DROP FUNCTION authdb_quote_for_message(text);
DROP FUNCTION authdb_email_lower(text);
DROP FUNCTION authdb_email_unassigned_pattern();
