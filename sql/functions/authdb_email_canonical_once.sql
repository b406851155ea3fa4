-- ---------------------------------------------------------------------------
-- authdb_email_canonical_once(p_email) -> steps 1 to 5 applied once.
--
-- First the input bounds, before any other work on p_email (no DECLARE
-- initialiser reads it: those run before the body):
--   * at most 1024 characters as given (authdb_require_text_fits: constant
--     work);
--   * each label of the domain as given at most 63 characters, the DNS
--     limit: the domain (after the first "@") is cut at "." and at every
--     character that the IDNA mapping below turns into a full stop (U+3002,
--     U+FF0E, U+FF61 and the others NFKC maps to one, such as U+2024 and
--     U+2488), and at the whitespace step 1 trims.  One regular expression
--     over at most 1024 characters.
-- Then every later step works on at most 1024 characters, and the punycode
-- decoder on labels of at most 63 (authdb_email_canonical_domain).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_email_canonical_once(p_email text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_invisible  CONSTANT text := E'[\\x01-\\x20\\x7f-\\x9f\\u00a0\\u00ad\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u206f\\u3000\\ufeff]';
    v_email      text;
    v_bad        text;
    v_local      text;
    v_domain     text;
BEGIN
    IF NOT authdb_text_fits(p_email, 1024) THEN
        PERFORM authdb_require_text_fits(p_email, 'p_email'::text, 1024, 'AU005'::text);
    END IF;
    IF pg_catalog.strpos(p_email, '@'::text) OPERATOR(pg_catalog.>) 0
       AND pg_catalog.substr(p_email, pg_catalog.strpos(p_email, '@'::text) + 1)
           OPERATOR(pg_catalog.~) E'[^@.\\u2024-\\u2026\\u2488-\\u249b\\u3002\\u33c2\\u33c7\\u33d8\\ufe12\\ufe19\\ufe30\\ufe52\\uff0e\\uff61\\U0001f100 \\t\\n\\r\\f\\x0b]{64}'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = 'p_email: each domain label must be at most 63 characters',
            DETAIL  = pg_catalog.format('The domain of %s has a label of more than 63 characters (the DNS limit), refused before it is normalised.',
                                        authdb_quote_for_message(p_email));
    END IF;

    -- E'\x0b' is vertical tab.
    v_email := pg_catalog.btrim(p_email, E' \t\n\r\f\x0b'::text);

    IF v_email OPERATOR(pg_catalog.=) ''::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = 'p_email: email address is empty';
    END IF;

    v_bad := (pg_catalog.regexp_match(v_email, authdb_email_unassigned_pattern()))[1];
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = pg_catalog.format('It contains U+%s, which is not a character assigned in Unicode 13.0 (the Unicode version of PostgreSQL 14, the oldest server authdb supports), so its canonical form could differ between servers.',
                                        pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.ascii(v_bad)),
                                                                         GREATEST(4, pg_catalog.length(pg_catalog.to_hex(pg_catalog.ascii(v_bad)))), '0'::text)));
    END IF;

    IF v_email OPERATOR(pg_catalog.~) v_invisible THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = 'An email address must not contain whitespace, control or invisible formatting characters.';
    END IF;

    IF pg_catalog.array_length(pg_catalog.string_to_array(v_email, '@'::text), 1) OPERATOR(pg_catalog.<>) 2 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = 'An email address must contain exactly one "@".';
    END IF;

    v_local  := pg_catalog.split_part(v_email, '@'::text, 1);
    v_domain := pg_catalog.split_part(v_email, '@'::text, 2);

    IF v_domain OPERATOR(pg_catalog.=) ''::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = 'The domain (after "@") must not be empty.';
    END IF;

    -- NFC composes at most 4 code points into one (no canonical
    -- decomposition is longer), so a local part of more than 4 x 64 code
    -- points as given cannot become one of 64: refused before NFC and the
    -- lower-case table, whose cost grows with the text they are given.
    IF pg_catalog.char_length(v_local) OPERATOR(pg_catalog.>) 256 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = 'The local part (before "@") must be 1 to 64 characters long.';
    END IF;

    v_local  := pg_catalog.normalize(authdb_email_lower(pg_catalog.normalize(v_local, 'NFC'::text)), 'NFC'::text);
    v_domain := authdb_email_canonical_domain(v_domain);

    IF v_domain OPERATOR(pg_catalog.~) '[@]'::text OR v_domain OPERATOR(pg_catalog.~) v_invisible THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = pg_catalog.format('Its domain maps (IDNA: NFKC, lower case) to %s, which contains "@", whitespace or an invisible character.', authdb_quote_for_message(v_domain));
    END IF;

    IF pg_catalog.char_length(v_local) NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_email: %s is not a valid email address', authdb_quote_for_message(v_email)),
            DETAIL  = 'The local part (before "@") must be 1 to 64 characters long.';
    END IF;

    v_email := v_local OPERATOR(pg_catalog.||) '@'::text OPERATOR(pg_catalog.||) v_domain;

    IF pg_catalog.char_length(v_email) OPERATOR(pg_catalog.>) 254 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = 'p_email: email address is longer than 254 characters',
            DETAIL  = pg_catalog.format('Its canonical form has %s characters.', pg_catalog.char_length(v_email));
    END IF;

    RETURN v_email;
END;
$function$;

COMMENT ON FUNCTION authdb_email_canonical_once(text) IS
    'Private. One pass of the canonical e-mail form (see canonical_email); AU005 if p_email is not a valid address.';
REVOKE EXECUTE ON FUNCTION authdb_email_canonical_once(text) FROM PUBLIC;
