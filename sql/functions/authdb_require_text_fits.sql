-- authdb_require_text_fits(p_value, p_name, p_max, p_sqlstate): raises
-- p_sqlstate -- the code the function already uses for an invalid value of
-- argument p_name -- unless authdb_text_fits(p_value, p_max).  The message
-- names the argument and the limit and never quotes the value (it may be a
-- token or a secret).
CREATE OR REPLACE FUNCTION authdb_require_text_fits(p_value text, p_name text, p_max integer, p_sqlstate text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
SET search_path FROM CURRENT
AS $function$
BEGIN
    IF NOT authdb_text_fits(p_value, p_max) THEN
        RAISE EXCEPTION USING
            ERRCODE = p_sqlstate,
            MESSAGE = pg_catalog.format('%s: must be at most %s characters', p_name, p_max),
            DETAIL  = pg_catalog.format('The value has more than %s characters; longer input is refused before any other work.', p_max);
    END IF;
END;
$function$;

COMMENT ON FUNCTION authdb_require_text_fits(text, text, integer, text) IS
    'Private. Raises p_sqlstate ("<p_name>: must be at most <p_max> characters", the value never quoted) unless authdb_text_fits(p_value, p_max).';
REVOKE EXECUTE ON FUNCTION authdb_require_text_fits(text, text, integer, text) FROM PUBLIC;
