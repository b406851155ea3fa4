-- ---------------------------------------------------------------------------
-- The ASCII fast path.  Almost every address people type is printable
-- ASCII, and for those steps 1 to 5 reduce to: trim, map A-Z to a-z, check
-- the shape.  The two functions below decide that case with a few built-ins
-- and one regular expression, without the Unicode tables, the punycode
-- decoder or a PL/pgSQL call: they are SQL functions with a standard body
-- (RETURN ...), so every name in them is bound once, here, when they are
-- created (neither the caller's search_path nor a function or operator
-- planted later can change what they call), and, having no SET clause and
-- no SECURITY DEFINER, the planner inlines them into the expression that
-- calls them (a registration, the CHECK users_email_canonical).
--
-- authdb_email_is_ascii_canonical(p_email) -> true if p_email is printable
-- ASCII and canonical_email(p_email) = p_email, i.e.:
--   * only code points U+0021..U+007E, none of them A-Z: no whitespace or
--     control character (step 2), nothing that lower-casing, NFC or NFKC
--     would change (steps 3 and 4: all of ASCII is stable under NFC and
--     NFKC, and the fixed lower-case table maps only A-Z within ASCII);
--   * exactly one "@" (step 2), a local part of 1 to 64 characters (step 5);
--   * a domain of labels of 1 to 63 characters separated by single dots
--     (the input bounds of authdb_email_canonical_once), with no trailing
--     dot (step 4 would drop it) and no label starting with "xn--" (step 4
--     would decode it, or refuse it);
--   * at most 254 characters (step 5), tested first: the regular
--     expressions never see a longer string.
-- Every such string passes every test of authdb_email_canonical_once
-- unchanged, and an ASCII result needs no second pass, so true here implies
-- canonical_email(p_email) = p_email.  false or NULL says nothing: the caller
-- then takes the full path, which gives the answer and the reason.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_email_is_ascii_canonical(p_email text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN pg_catalog.char_length(p_email) OPERATOR(pg_catalog.<=) 254
   AND p_email OPERATOR(pg_catalog.~) E'^[\\x21-\\x3f\\x5b-\\x7e]{1,64}@[\\x21-\\x2d\\x2f-\\x3f\\x5b-\\x7e]{1,63}(\\.[\\x21-\\x2d\\x2f-\\x3f\\x5b-\\x7e]{1,63})*$'::text
   AND p_email OPERATOR(pg_catalog.!~) E'@(.*\\.)?xn--'::text;

COMMENT ON FUNCTION authdb_email_is_ascii_canonical(text) IS
    'Private. true if p_email is printable ASCII already in canonical form (then canonical_email(p_email) = p_email); false or NULL: undecided, use canonical_email. Inlinable SQL.';
REVOKE EXECUTE ON FUNCTION authdb_email_is_ascii_canonical(text) FROM PUBLIC;
