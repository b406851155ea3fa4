-- ---------------------------------------------------------------------------
-- authdb_interval_is_valid(p_value, p_allow_zero) -> true if p_value is a
-- finite interval of at most 1000 years in each of its year, day and hour
-- parts (now() plus or minus it then stays within the timestamp range, no
-- raw 22008, whatever the mix of signs) that is positive, or zero when
-- p_allow_zero.  "Positive" means both p_value > '0' and
-- now() + p_value > now(): the second test refuses mixed-sign intervals such
-- as '1 month -30 days 00:00:01', which compare as positive (interval
-- comparison counts a month as 30 days) yet move a timestamp in February
-- backwards.  That test makes the function STABLE.  CASE orders the tests,
-- so now() + p_value is computed only for an interval within range.
-- Inlinable SQL: the API functions test their intervals with it and call
-- authdb_require_interval (which raises the message) only when it is false.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_interval_is_valid(p_value interval, p_allow_zero boolean)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
           WHEN p_value IS NULL
                OR NOT pg_catalog.isfinite(p_value)
                OR pg_catalog.abs(pg_catalog.date_part('year'::text, p_value)) OPERATOR(pg_catalog.>) 1000::double precision
                OR pg_catalog.abs(pg_catalog.date_part('day'::text, p_value)) OPERATOR(pg_catalog.>) 366000::double precision
                OR pg_catalog.abs(pg_catalog.date_part('hour'::text, p_value)) OPERATOR(pg_catalog.>) 8784000::double precision
           THEN false
           WHEN p_allow_zero
           THEN p_value OPERATOR(pg_catalog.>=) '0'::interval
                AND pg_catalog.now() OPERATOR(pg_catalog.+) p_value OPERATOR(pg_catalog.>=) pg_catalog.now()
           ELSE p_value OPERATOR(pg_catalog.>) '0'::interval
                AND pg_catalog.now() OPERATOR(pg_catalog.+) p_value OPERATOR(pg_catalog.>) pg_catalog.now()
       END;

COMMENT ON FUNCTION authdb_interval_is_valid(interval, boolean) IS
    'Private. true if p_value is a finite interval (at most 1000 years in each part) that is positive, or zero when p_allow_zero; the test authdb_require_interval raises AU009 for. Inlinable SQL.';
REVOKE EXECUTE ON FUNCTION authdb_interval_is_valid(interval, boolean) FROM PUBLIC;
