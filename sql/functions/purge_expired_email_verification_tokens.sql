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
-- 3. Keeps, and counts, the users that a row of another table still
--    references through a foreign key that does not cascade (an
--    application's profiles, say): they are never an error.  A NOTICE says
--    how many were kept and which constraints kept them.
--
-- Cost: both steps walk an index in batches of 1000 rows
-- (email_verification_tokens_ended_at_idx, users_unconfirmed_created_at_idx),
-- so a purge with nothing to do reads a few index pages.
--
-- Which users are referenced is read from the catalog (pg_constraint: the
-- foreign keys to users) and checked with one EXISTS per key, only on tables
-- this function's owner may read and where that read runs no other role's
-- code (no row security, or the owner bypasses it).  Any other foreign key
-- (a table it may not read, a cascade that fails further on) is found by
-- deleting: one subtransaction per batch, and one per user of a batch that
-- failed, the failing ones kept and counted.
--
-- Concurrent purges never pile up: each takes a transaction-level advisory
-- lock of this schema (pg_try_advisory_xact_lock(1635087465,
-- hashtext(schema))); one that finds it taken returns 0 at once with a
-- NOTICE that another purge is running (it does the work).
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
    c_batch     CONSTANT integer := 1000;
    v_cutoff    timestamptz;
    v_deleted   bigint := 0;
    v_users     bigint := 0;
    v_kept      bigint := 0;
    v_count     bigint;
    v_exists    text;
    v_counts    text;
    v_keys      text[];
    v_classify  text;
    v_batch     uuid[];
    v_free      uuid[];
    v_by_key    bigint[];
    v_reasons   text[] := '{}';
    v_last_at   timestamptz := '-infinity';
    v_last_id   uuid := '00000000-0000-0000-0000-000000000000';
    v_id        uuid;
    v_table     text;
    v_schema    text;
    v_key       text;
BEGIN
    PERFORM authdb_require_interval(p_older_than, 'p_older_than'::text, false);
    v_cutoff := pg_catalog.now() - p_older_than;

    IF NOT pg_catalog.pg_try_advisory_xact_lock(1635087465, pg_catalog.hashtext(pg_catalog.current_schema())) THEN
        RAISE NOTICE USING
            MESSAGE = pg_catalog.format('another purge of schema %I is running; this one did nothing', pg_catalog.current_schema()),
            HINT = 'Nothing to do: the running purge deletes what this one would have.';
        RETURN 0;
    END IF;

    -- 1. Tokens, in batches.  least(...) is the instant the token stopped
    -- being usable; ORDER BY it walks email_verification_tokens_ended_at_idx
    -- (a generic plan would otherwise guess a third of the table matches),
    -- and = ANY (ARRAY(...)) deletes the batch by primary key (IN (...)
    -- plans a hash join over the whole table).
    LOOP
        DELETE FROM email_verification_tokens AS t
         WHERE t.id = ANY (ARRAY(SELECT e.id
                          FROM email_verification_tokens AS e
                         WHERE least(e.expires_at, e.consumed_at, e.revoked_at) < v_cutoff
                         ORDER BY least(e.expires_at, e.consumed_at, e.revoked_at)
                         LIMIT c_batch
                           FOR UPDATE SKIP LOCKED));
        GET DIAGNOSTICS v_count = ROW_COUNT;
        v_deleted := v_deleted + v_count;
        EXIT WHEN v_count < c_batch;
    END LOOP;

    -- 2. Unconfirmed users older than the cutoff without a token, in
    -- batches along users_unconfirmed_created_at_idx.
    LOOP
        SELECT pg_catalog.array_agg(c.id ORDER BY c.created_at, c.id),
               (pg_catalog.array_agg(c.created_at ORDER BY c.created_at DESC, c.id DESC))[1],
               (pg_catalog.array_agg(c.id ORDER BY c.created_at DESC, c.id DESC))[1],
               pg_catalog.count(*)
          INTO v_batch, v_last_at, v_last_id, v_count
          FROM (SELECT u.id, u.created_at
                  FROM users AS u
                 WHERE u.email_confirmed_at IS NULL
                   AND u.created_at < v_cutoff
                   AND (u.created_at, u.id) > (v_last_at, v_last_id)
                   -- OFFSET 0 keeps this a per-row probe of
                   -- email_verification_tokens_user_id_idx: as an anti-join
                   -- the generic plan hashes the whole tokens table.
                   AND NOT EXISTS (SELECT FROM email_verification_tokens AS t WHERE t.user_id = u.id OFFSET 0)
                 ORDER BY u.created_at, u.id
                 LIMIT c_batch
                   FOR UPDATE OF u SKIP LOCKED) AS c;
        EXIT WHEN v_count = 0;

        -- Read once, at the first batch (an idle purge never reads it).
        IF v_classify IS NULL THEN
            -- The foreign keys to users that would refuse the delete and that can be
            -- read safely: one "EXISTS (...)" per key, and the key's name for the
            -- NOTICE (names and columns quoted by format and regclass).  Safely:
            -- a table (no view), no other role's row-security policy, and every
            -- referencing column of exactly its key column's type, so that the
            -- comparison is the built-in one and no cast (an implicit cast from
            -- a type the table's owner made runs that owner's code) runs as this
            -- function's owner.  Any other key is found by the delete below,
            -- whose referential checks run as the referencing table's owner.
            SELECT pg_catalog.string_agg(k.test, ' OR ' ORDER BY k.oid),
                   pg_catalog.string_agg(pg_catalog.format('pg_catalog.count(*) FILTER (WHERE %s)', k.test), ', ' ORDER BY k.oid),
                   pg_catalog.array_agg(k.name ORDER BY k.oid)
              INTO v_exists, v_counts, v_keys
              FROM (SELECT c.oid,
                           pg_catalog.format('EXISTS (SELECT FROM %s%s AS r WHERE %s)',
                                             CASE WHEN r.relkind = 'p' THEN '' ELSE 'ONLY ' END,
                                             c.conrelid::pg_catalog.regclass, m.cols) AS test,
                           pg_catalog.format('%s (%I)', c.conrelid::pg_catalog.regclass, c.conname) AS name
                      FROM pg_catalog.pg_constraint AS c
                      JOIN pg_catalog.pg_class AS r ON r.oid = c.conrelid
                      JOIN pg_catalog.pg_roles AS me ON me.rolname = CURRENT_USER
                     CROSS JOIN LATERAL (
                           SELECT pg_catalog.string_agg(pg_catalog.format('r.%I OPERATOR(pg_catalog.=) u.%I', fa.attname, pa.attname), ' AND ') AS cols,
                                  pg_catalog.bool_and(fa.atttypid = pa.atttypid) AS same_types
                             FROM ROWS FROM (pg_catalog.unnest(c.conkey), pg_catalog.unnest(c.confkey)) AS k(fk, pk)
                             JOIN pg_catalog.pg_attribute AS fa ON fa.attrelid = c.conrelid AND fa.attnum = k.fk
                             JOIN pg_catalog.pg_attribute AS pa ON pa.attrelid = c.confrelid AND pa.attnum = k.pk) AS m
                     WHERE c.contype = 'f'
                       AND m.same_types
                       AND r.relkind IN ('r', 'p')
                       AND c.confrelid = 'users'::pg_catalog.regclass
                       AND c.conrelid <> 'email_verification_tokens'::pg_catalog.regclass
                       AND c.conparentid = 0
                       AND c.confdeltype IN ('a', 'r')
                       AND pg_catalog.has_table_privilege(c.conrelid, 'SELECT')
                       AND (NOT r.relrowsecurity OR r.relowner = me.oid OR me.rolsuper OR me.rolbypassrls)) AS k;

            -- Per batch: the ids no key references, how many some key
            -- keeps, and per key how many it keeps.
            v_classify := pg_catalog.format(
                'SELECT pg_catalog.array_agg(u.id) FILTER (WHERE NOT (%1$s)), pg_catalog.count(*) FILTER (WHERE %1$s), ARRAY[%2$s]::bigint[]
                   FROM users AS u
                  WHERE u.id = ANY ($1)
                    AND NOT EXISTS (SELECT FROM email_verification_tokens AS t WHERE t.user_id = u.id)',
                coalesce(v_exists, 'false'), coalesce(v_counts, ''));
        END IF;

        -- A new statement (a new snapshot) under the locks: no token can be
        -- added to these users any more, and any committed meanwhile is seen.
        EXECUTE v_classify INTO v_free, v_count, v_by_key USING v_batch;
        v_kept := v_kept + v_count;
        FOR i IN 1 .. coalesce(pg_catalog.array_length(v_by_key, 1), 0) LOOP
            IF v_by_key[i] > 0 THEN
                IF NOT v_keys[i] = ANY (v_reasons) THEN
                    v_reasons := v_reasons || v_keys[i];
                END IF;
            END IF;
        END LOOP;

        BEGIN
            DELETE FROM users AS u
             WHERE u.id = ANY (v_free)
               AND NOT EXISTS (SELECT FROM email_verification_tokens AS t WHERE t.user_id = u.id);
            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_users := v_users + v_count;
        EXCEPTION WHEN integrity_constraint_violation THEN
            -- A key the catalog check could not read: one user at a time.
            FOREACH v_id IN ARRAY v_free LOOP
                BEGIN
                    DELETE FROM users AS u
                     WHERE u.id = v_id
                       AND NOT EXISTS (SELECT FROM email_verification_tokens AS t WHERE t.user_id = u.id);
                    GET DIAGNOSTICS v_count = ROW_COUNT;
                    v_users := v_users + v_count;
                EXCEPTION WHEN integrity_constraint_violation THEN
                    GET STACKED DIAGNOSTICS v_schema = SCHEMA_NAME, v_table = TABLE_NAME, v_key = CONSTRAINT_NAME;
                    v_kept := v_kept + 1;
                    v_key := pg_catalog.format('%I.%I (%I)', v_schema, v_table, v_key);
                    IF NOT v_key = ANY (v_reasons) THEN
                        v_reasons := v_reasons || v_key;
                    END IF;
                END;
            END LOOP;
        END;
    END LOOP;

    IF v_kept > 0 THEN
        RAISE NOTICE USING
            MESSAGE = pg_catalog.format('purge kept %s unconfirmed user(s) that other rows still reference (deleted %s token(s), %s user(s))', v_kept, v_deleted, v_users),
            DETAIL = 'Referenced through: ' || pg_catalog.array_to_string(v_reasons, ', '),
            HINT = 'Delete the application''s rows of those users first, or declare those foreign keys ON DELETE CASCADE; the next purge then deletes the users.';
    END IF;

    RETURN v_deleted;
END;
$function$;

COMMENT ON FUNCTION purge_expired_email_verification_tokens(interval) IS
    'Deletes e-mail verification tokens that expired, were consumed or were revoked more than p_older_than ago (default 7 days), then the unconfirmed users left without any token, except those another table still references (kept, counted in a NOTICE); returns the number of tokens deleted. Returns 0 at once with a NOTICE when another purge of the schema is running. AU009 unless p_older_than is positive. SECURITY DEFINER; grant EXECUTE to the maintenance role.';
REVOKE EXECUTE ON FUNCTION purge_expired_email_verification_tokens(interval) FROM PUBLIC;
