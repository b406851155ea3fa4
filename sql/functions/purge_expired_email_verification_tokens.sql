-- ---------------------------------------------------------------------------
-- purge_expired_email_verification_tokens: housekeeping, run periodically.
--
-- 1. Deletes tokens that stopped being usable (expired, consumed or revoked)
--    longer than p_older_than ago; returns how many.
-- 2. Deletes unconfirmed users left without any token by that (every token
--    of theirs ended longer than p_older_than ago): an abandoned or
--    squatted registration ends, and the address is free again.  Users
--    locked by a running registration at that moment are skipped (the next
--    purge gets them), and each is re-checked under its lock, so a
--    registration committed meanwhile keeps its user.
-- Scans the unconfirmed users without an index (a maintenance job, run
-- rarely; an index would cost every registration).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION purge_expired_email_verification_tokens(p_older_than interval DEFAULT '7 days')
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    v_cutoff    timestamptz;
    v_deleted   bigint;
    v_abandoned uuid[];
BEGIN
    PERFORM authdb_require_interval(p_older_than, 'p_older_than'::text, false);
    v_cutoff := pg_catalog.now() - p_older_than;

    -- least(...) is the instant the token stopped being usable; the
    -- expression index email_verification_tokens_ended_at_idx serves it.
    DELETE FROM email_verification_tokens AS t
     WHERE least(t.expires_at, t.consumed_at, t.revoked_at) < v_cutoff;

    GET DIAGNOSTICS v_deleted = ROW_COUNT;

    SELECT pg_catalog.array_agg(c.id)
      INTO v_abandoned
      FROM (SELECT u.id
              FROM users AS u
             WHERE u.email_confirmed_at IS NULL
               AND u.created_at < v_cutoff
               AND NOT EXISTS (SELECT 1 FROM email_verification_tokens AS t WHERE t.user_id = u.id)
               FOR UPDATE OF u SKIP LOCKED) AS c;

    -- A new statement (a new snapshot) under the locks: no token can be
    -- added to these users any more, and any committed meanwhile is seen.
    DELETE FROM users AS u
     WHERE u.id = ANY (v_abandoned)
       AND NOT EXISTS (SELECT 1 FROM email_verification_tokens AS t WHERE t.user_id = u.id);

    RETURN v_deleted;
END;
$function$;

COMMENT ON FUNCTION purge_expired_email_verification_tokens(interval) IS
    'Deletes e-mail verification tokens that expired, were consumed or were revoked more than p_older_than ago (default 7 days), then the unconfirmed users left without any token; returns the number of tokens deleted. AU009 unless p_older_than is positive. SECURITY DEFINER; grant EXECUTE to the maintenance role.';
REVOKE EXECUTE ON FUNCTION purge_expired_email_verification_tokens(interval) FROM PUBLIC;
