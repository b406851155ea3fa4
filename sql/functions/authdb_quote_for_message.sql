-- ---------------------------------------------------------------------------
-- authdb_quote_for_message(p_value) -> p_value as a double-quoted string for
-- error messages, safe to write to a server log: backslash and double quote
-- are backslash-escaped, and whitespace other than the plain space, control
-- characters and invisible formatting characters (zero-width, bidirectional
-- overrides, BOM, ...) are written as \uXXXX.  Values longer than 100
-- characters are cut, marked with "...".  It reads at most the first 101
-- characters, however long p_value is.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_quote_for_message(p_value text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
SET search_path FROM CURRENT
-- A standard SQL body: parsed and bound to the built-ins once, here, so
-- neither the caller's search_path nor standard_conforming_strings matters.
RETURN (
    SELECT E'"'::text
        OPERATOR(pg_catalog.||) coalesce(pg_catalog.string_agg(
               CASE
                   WHEN chars.c OPERATOR(pg_catalog.=) E'"'::text OR chars.c OPERATOR(pg_catalog.=) E'\\'::text
                       THEN E'\\'::text OPERATOR(pg_catalog.||) chars.c
                   WHEN chars.c OPERATOR(pg_catalog.~) E'[\\x01-\\x1f\\x7f-\\x9f\\u00a0\\u00ad\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff]'::text
                       THEN E'\\u'::text OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.ascii(chars.c)), 4, '0'::text)
                   ELSE chars.c
               END, ''::text ORDER BY chars.i), ''::text)
        OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.char_length(pg_catalog.left(p_value, 101)) OPERATOR(pg_catalog.>) 100 THEN E'..."'::text ELSE E'"'::text END
      FROM pg_catalog.unnest(pg_catalog.string_to_array(pg_catalog.left(p_value, 100), NULL::text)) WITH ORDINALITY AS chars (c, i)
);

COMMENT ON FUNCTION authdb_quote_for_message(text) IS
    'Private. Quotes an untrusted value for an error message: escapes quotes, backslashes, control and invisible characters; cuts after 100 characters.';
REVOKE EXECUTE ON FUNCTION authdb_quote_for_message(text) FROM PUBLIC;
