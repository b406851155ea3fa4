-- ---------------------------------------------------------------------------
-- authdb_email_map_domain(p_domain) -> p_domain per the UTS #46 mapping as
-- authdb approximates it: NFKC, U+3002 -> ".", lower case (fixed table), NFKC.
-- The one validation: after the first NFKC the domain must be at most 254
-- characters (253, the DNS limit of a name, plus a trailing dot), or AU005.
-- NFKC can expand a character up to 18-fold (U+FDFA), and the lower-case
-- table costs time in proportion to the text it is given: the check keeps
-- that text at most 254 characters, whatever 1,024 characters came in.  A
-- valid domain never exceeds it: its ACE form is at most 253 octets and a
-- label's Unicode form is never longer than its ACE form.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_email_map_domain(p_domain text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_domain text := pg_catalog.translate(pg_catalog.normalize(p_domain, 'NFKC'::text), E'\u3002'::text, '.'::text);
BEGIN
    IF pg_catalog.char_length(v_domain) OPERATOR(pg_catalog.>) 254 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = 'p_email: the domain must be at most 253 characters',
            DETAIL  = pg_catalog.format('The domain %s, mapped as IDNA does (NFKC), has %s characters; the DNS limit is 253 (plus a trailing dot).',
                                        authdb_quote_for_message(p_domain), pg_catalog.char_length(v_domain));
    END IF;
    RETURN pg_catalog.normalize(authdb_email_lower(v_domain), 'NFKC'::text);
END;
$function$;

COMMENT ON FUNCTION authdb_email_map_domain(text) IS
    'Private. Maps a domain as UTS #46 does, approximated: NFKC, ideographic full stop to ".", fixed lower-case table, NFKC.';
REVOKE EXECUTE ON FUNCTION authdb_email_map_domain(text) FROM PUBLIC;
