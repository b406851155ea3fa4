-- ---------------------------------------------------------------------------
-- authdb_require_canonical_email(p_email) -> true, or AU005: the CHECK of
-- users.email.  Raising (rather than returning false) gives the reason, and
-- keeps the row -- password hash included -- out of the error message.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_require_canonical_email(p_email text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_canonical text := canonical_email(p_email);
BEGIN
    IF v_canonical OPERATOR(pg_catalog.<>) p_email THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('users.email: %s is not in canonical form; its canonical form is %s',
                                        authdb_quote_for_message(p_email), authdb_quote_for_message(v_canonical)),
            HINT    = 'Store canonical_email(...) of the address.  Before importing users with INSERT ... SELECT, run SELECT authdb_check_email_import(ARRAY(SELECT email FROM ...)) to list every row that is invalid or collides.';
    END IF;
    RETURN true;
END;
$function$;

COMMENT ON FUNCTION authdb_require_canonical_email(text) IS
    'Private. CHECK of users.email: true if p_email is in canonical form, AU005 (with the canonical form) otherwise.';
REVOKE EXECUTE ON FUNCTION authdb_require_canonical_email(text) FROM PUBLIC;
