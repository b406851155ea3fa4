-- authdb_email_ascii_canonical(p_email) -> canonical_email(p_email) when
-- p_email, trimmed (step 1) and with A-Z mapped to a-z (the ASCII part of
-- the fixed lower-case table), is canonical by the test above; NULL
-- otherwise (undecided: call canonical_email).  Trimming and mapping A-Z
-- first is what steps 1, 3 and 4 do to such a string, so the result is the
-- canonical form.
CREATE OR REPLACE FUNCTION authdb_email_ascii_canonical(p_email text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE
           WHEN authdb_email_is_ascii_canonical(
                    pg_catalog.translate(pg_catalog.btrim(p_email, E' \t\n\r\f\x0b'::text),
                                         'ABCDEFGHIJKLMNOPQRSTUVWXYZ'::text, 'abcdefghijklmnopqrstuvwxyz'::text))
           THEN pg_catalog.translate(pg_catalog.btrim(p_email, E' \t\n\r\f\x0b'::text),
                                     'ABCDEFGHIJKLMNOPQRSTUVWXYZ'::text, 'abcdefghijklmnopqrstuvwxyz'::text)
       END;

COMMENT ON FUNCTION authdb_email_ascii_canonical(text) IS
    'Private. canonical_email(p_email) for printable-ASCII input whose trimmed, A-Z-lowered form is canonical; NULL otherwise (undecided). Inlinable SQL.';
REVOKE EXECUTE ON FUNCTION authdb_email_ascii_canonical(text) FROM PUBLIC;
