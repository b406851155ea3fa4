-- ---------------------------------------------------------------------------
-- Input bounds.  Every text argument of the SQL API has a documented maximum
-- length (README, "Input bounds"), checked before any other work is done
-- with it -- trimming, normalisation, regular expressions, decoding -- so
-- that what a call costs is bounded whatever it is given:
--
--   p_email 1024 characters (and each domain label, as given, 63: see
--   authdb_email_canonical_once), p_password_hash 1024, p_phone 64,
--   p_role 63, p_token and p_registration_secret 64 (authdb issues 43).
--
-- authdb_text_fits(p_value, p_max) -> true if p_value is NULL or has at
-- most p_max characters.  Constant work: octet_length() reads the stored
-- size (a UTF8 character has at most 4 bytes, so more than 4 * p_max bytes
-- is more than p_max characters), and char_length() then counts at most
-- 4 * p_max bytes.  Inlinable SQL: the API functions test every argument
-- with it on their hot path, and call authdb_require_text_fits only when
-- one does not fit.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_text_fits(p_value text, p_max integer)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
           WHEN p_value IS NULL THEN true
           WHEN pg_catalog.octet_length(p_value) OPERATOR(pg_catalog.>) (p_max OPERATOR(pg_catalog.*) 4) THEN false
           ELSE pg_catalog.char_length(p_value) OPERATOR(pg_catalog.<=) p_max
       END;

COMMENT ON FUNCTION authdb_text_fits(text, integer) IS
    'Private. true if p_value is NULL or at most p_max characters long, in constant work (octet_length first). Inlinable SQL.';
REVOKE EXECUTE ON FUNCTION authdb_text_fits(text, integer) FROM PUBLIC;
