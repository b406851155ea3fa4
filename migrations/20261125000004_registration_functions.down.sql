-- authdb migration 20261125000004_registration_functions (down)
--
-- Reverts 20261125000004_registration_functions.up.sql: drops the SQL API
-- and its private helpers, in reverse order of creation.  Grants that
-- operators made on these functions disappear with them; re-grant after
-- migrating up again.  No data is touched.

DROP FUNCTION purge_expired_email_verification_tokens(interval);
DROP FUNCTION verify_email(text);
DROP FUNCTION resend_email_verification(text, interval, interval);
DROP FUNCTION register_user_with_token(text, text, text, text, interval, interval);
DROP FUNCTION authdb_issue_email_verification_token(uuid, text, text, text, interval);
DROP FUNCTION authdb_require_self_assignable_role(text);
DROP FUNCTION authdb_require_positive_interval(interval, text);
DROP FUNCTION authdb_normalize_phone(text);
DROP FUNCTION authdb_normalize_email(text);
