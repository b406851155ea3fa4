-- ---------------------------------------------------------------------------
-- authdb_require_interval(p_value, p_name, p_allow_zero): AU009 unless
-- authdb_interval_is_valid(p_value, p_allow_zero), with a message that names
-- argument p_name and says which rule p_value breaks.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_require_interval(p_value interval, p_name text, p_allow_zero boolean)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path FROM CURRENT
AS $function$
BEGIN
    IF authdb_interval_is_valid(p_value, p_allow_zero) THEN
        RETURN;
    END IF;

    IF p_value IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = pg_catalog.format('%s: must not be NULL', p_name),
            HINT    = 'Omit the argument to use its default.';
    END IF;

    IF NOT pg_catalog.isfinite(p_value)
       OR pg_catalog.abs(pg_catalog.date_part('year'::text, p_value)) > 1000::double precision
       OR pg_catalog.abs(pg_catalog.date_part('day'::text, p_value)) > 366000::double precision
       OR pg_catalog.abs(pg_catalog.date_part('hour'::text, p_value)) > 8784000::double precision THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = pg_catalog.format('%s: must be a finite interval of at most 1000 years (in each of its year, day and hour parts), got %s', p_name, p_value);
    END IF;

    RAISE EXCEPTION USING
        ERRCODE = 'AU009',
        MESSAGE = pg_catalog.format('%s: must be a %s interval, got %s', p_name,
                                    CASE WHEN p_allow_zero THEN 'zero or positive' ELSE 'positive' END, p_value);
END;
$function$;

COMMENT ON FUNCTION authdb_require_interval(interval, text, boolean) IS
    'Private. Raises AU009 (naming argument p_name) unless p_value is a finite interval that is positive, or zero when p_allow_zero (authdb_interval_is_valid).';
REVOKE EXECUTE ON FUNCTION authdb_require_interval(interval, text, boolean) FROM PUBLIC;
