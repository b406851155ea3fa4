-- ---------------------------------------------------------------------------
-- canonical_email(p_email) -> the canonical form of p_email (see the top of
-- this section); AU009 if NULL, AU005 (naming the reason) if it is not a
-- valid address.  Idempotent by construction: a non-ASCII result is accepted
-- only if a second pass leaves it unchanged (an ASCII result always is), so
-- canonical_email(canonical_email(x)) = canonical_email(x) for every x it
-- accepts.  Part of the SQL API: any client may compute the form the
-- database stores; it reads no table.  SECURITY DEFINER only so that a role
-- granted EXECUTE on it needs no grant on the private helpers it calls.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION canonical_email(p_email text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_email text;
BEGIN
    IF p_email IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_email: must not be NULL';
    END IF;

    -- The input bound first (constant work; authdb_email_canonical_once
    -- checks the rest of the bounds before any other work).
    IF NOT authdb_text_fits(p_email, 1024) THEN
        PERFORM authdb_require_text_fits(p_email, 'p_email'::text, 1024, 'AU005'::text);
    END IF;

    -- Printable ASCII: the fast path above decides most addresses.
    v_email := authdb_email_ascii_canonical(p_email);
    IF v_email IS NOT NULL THEN
        RETURN v_email;
    END IF;

    v_email := authdb_email_canonical_once(p_email);

    IF v_email OPERATOR(pg_catalog.~) E'[^\\x01-\\x7f]'::text
       AND authdb_email_canonical_once(v_email) OPERATOR(pg_catalog.<>) v_email THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s has no stable canonical form', authdb_quote_for_message(p_email)),
            DETAIL  = pg_catalog.format('Its canonical form %s changes when canonicalized again.', authdb_quote_for_message(v_email));
    END IF;

    RETURN v_email;
END;
$function$;

COMMENT ON FUNCTION canonical_email(text) IS
    'The canonical form of an e-mail address, as users.email stores it: NFC, fixed lower-case table, domain per IDNA (NFKC + lower case, ACE labels decoded to Unicode, one trailing dot dropped). AU009 if NULL, AU005 if invalid. Reads no table.';
REVOKE EXECUTE ON FUNCTION canonical_email(text) FROM PUBLIC;
