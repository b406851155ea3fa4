-- authdb migration 20261125000004_registration_functions (down)
--
-- Reverts 20261125000004_registration_functions.up.sql: drops the SQL API
-- and its private helpers, in reverse order of creation.  Grants that
-- operators made on these functions disappear with them; re-grant after
-- migrating up again.  No data is touched.

DROP FUNCTION purge_expired_email_verification_tokens(interval);
DROP FUNCTION sign_in_credentials(text);
DROP FUNCTION verify_email(text, text, text);
DROP FUNCTION preview_email_verification(text, text);
DROP FUNCTION resend_email_verification(text, interval, interval, text);
DROP FUNCTION register_user_with_token(text, text, text, text, interval, interval);
DROP FUNCTION authdb_require_interval(interval, text, boolean);
DROP FUNCTION authdb_interval_is_valid(interval, boolean);
DROP FUNCTION authdb_normalize_phone(text);
