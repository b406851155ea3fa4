-- ---------------------------------------------------------------------------
-- authdb_normalize_phone(p_phone) -> E.164 number, NULL for NULL, or AU006.
--
-- A "(0)" right after the country code -- the trunk prefix people write in
-- "+49 (0) 209 22334455" or "+49-(0)-209-22334455" -- is removed: it is
-- dialled only inside the country and is never part of the international
-- number.  Spaces, dashes and dots may stand (in any mix) around the "+",
-- between the country code and the "(0)", inside its parentheses and after
-- it.  ("(0)" anywhere else is refused, AU006, and so is a group right
-- after the country code that starts with 0, below.)  Then the separators people
-- type (spaces, "-", ".", "(" and ")") are removed, and the result must be
-- "+", a country code that does not start with 0, and 8 to 15 digits in
-- all.  No conversion of national formats or "00" prefixes: the application
-- must send international numbers.  An empty string is rejected rather than
-- treated as "no phone": callers pass NULL for that, so a form bug cannot
-- silently drop a number.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_normalize_phone(p_phone text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_phone text;
    v_country text;
BEGIN
    IF p_phone IS NULL THEN
        RETURN NULL;
    END IF;
    -- The input bound, before the regular expressions below (callers check
    -- it too: register_user_with_token before any other work).
    PERFORM authdb_require_text_fits(p_phone, 'p_phone'::text, 64, 'AU006'::text);

    -- "+", a country code of 1 to 3 digits, then "(0)", with spaces,
    -- dashes and dots ([ .-]) allowed around and inside: drop the "(0)".
    v_phone := pg_catalog.regexp_replace(p_phone, E'^([ .-]*\\+[ .-]*[0-9]{1,3})[ .-]*\\([ .-]*0[ .-]*\\)'::text, E'\\1 '::text);

    IF v_phone OPERATOR(pg_catalog.~) E'\\([ .-]*0[ .-]*\\)'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = 'A "(0)" trunk prefix is accepted (and removed) only right after the country code, as in "+49 (0) 209 22334455".';
    END IF;

    -- A group right after the country code that starts with 0 -- "+49 (0209)
    -- 22334455", "+44 020 7946 0958" -- carries the trunk prefix inside the
    -- area code: stored as typed it would be another number (+49020922334455),
    -- which the AU002 check would not match with +4920922334455.  Refused
    -- rather than guessed, except for the country codes whose numbers do
    -- start with 0 (Italy 39, San Marino 378, Vatican 379, Cote d'Ivoire 225,
    -- Republic of the Congo 242).  Only the grouping the user typed shows
    -- where the country code ends: "+490209..." is not caught.
    v_country := pg_catalog.substring(v_phone, E'^[ .-]*\\+[ .-]*([0-9]{1,3})(?:[ .-]+|[ .-]*\\()[ .-]*0'::text);
    IF v_country IS NOT NULL AND v_country OPERATOR(pg_catalog.<>) ALL ('{39,378,379,225,242}'::text[]) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = pg_catalog.format('The digits after the country code +%s start with 0, a trunk prefix dialled only inside the country: leave it out ("+49 209 22334455") or write it as "(0)" right after the country code ("+49 (0) 209 22334455").', v_country);
    END IF;

    -- translate() deletes every character of its second argument that has
    -- no counterpart in the third.
    v_phone := pg_catalog.translate(v_phone, ' -.()'::text, ''::text);

    IF v_phone OPERATOR(pg_catalog.!~) E'^\\+[1-9][0-9]{7,14}$'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = 'After removing a "(0)" trunk prefix, spaces, dashes, dots and parentheses a phone number must be "+" followed by 8 to 15 digits, the first not 0 (country codes never start with 0).',
            HINT    = 'Pass NULL when the user gave no phone number.';
    END IF;

    RETURN v_phone;
END;
$function$;

COMMENT ON FUNCTION authdb_normalize_phone(text) IS
    'Private. Returns p_phone in E.164 form ("(0)" trunk prefix after the country code, spaces, dashes, dots and parentheses removed; "+", a non-zero digit, 7-14 more digits), NULL for NULL; raises AU006 otherwise.';
REVOKE EXECUTE ON FUNCTION authdb_normalize_phone(text) FROM PUBLIC;
