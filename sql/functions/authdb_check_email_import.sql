-- ---------------------------------------------------------------------------
-- authdb_check_email_import(p_emails, p_canonicalize) -> nothing, or one
-- AU005 error listing every problem.  For operators who import existing
-- users with INSERT ... SELECT: the CHECK above stops at the first bad row
-- and the unique constraint at the first collision; this lists them all
-- first, so that no two accounts are silently merged:
--
--   SELECT authdb_check_email_import(ARRAY(SELECT email FROM legacy_users ORDER BY id));
--   INSERT INTO users (email, password_hash, role, email_confirmed_at)
--   SELECT canonical_email(email), password_hash, 'user', confirmed_at FROM legacy_users;
--
-- Problems (numbered by position in p_emails, 1-based): an invalid address
-- (with canonical_email's reason); two addresses with one canonical form; an
-- address whose canonical form is already a user's.  With p_canonicalize =
-- false (the import inserts the addresses as they are), an address that is
-- not in canonical form is a problem too.  SECURITY INVOKER: it reads users
-- with the caller's privileges.  At most 50 problems are spelled out.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_check_email_import(p_emails text[], p_canonicalize boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_canonical text[] := ARRAY[]::text[];
    v_problems  text[] := ARRAY[]::text[];
    v_email     text;
    v_ordinal   bigint;
    v_result    text;
    v_detail    text;
BEGIN
    IF p_emails IS NULL OR p_canonicalize IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_emails, p_canonicalize: must not be NULL';
    END IF;

    FOR v_email, v_ordinal IN SELECT e.email, e.ordinal FROM pg_catalog.unnest(p_emails) WITH ORDINALITY AS e (email, ordinal) LOOP
        BEGIN
            v_result := canonical_email(v_email);
            IF NOT p_canonicalize AND v_result OPERATOR(pg_catalog.<>) v_email THEN
                v_problems := v_problems OPERATOR(pg_catalog.||) pg_catalog.format(
                    '#%s %s is not in canonical form (%s)', v_ordinal,
                    authdb_quote_for_message(v_email), authdb_quote_for_message(v_result));
            END IF;
        EXCEPTION WHEN SQLSTATE 'AU005' OR SQLSTATE 'AU009' THEN
            GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
            v_result := NULL;
            v_problems := v_problems OPERATOR(pg_catalog.||) pg_catalog.format(
                '#%s %s is invalid: %s%s', v_ordinal,
                coalesce(authdb_quote_for_message(v_email), 'NULL'::text), SQLERRM,
                CASE WHEN v_detail OPERATOR(pg_catalog.<>) ''::text THEN ' ' OPERATOR(pg_catalog.||) v_detail ELSE ''::text END);
        END;
        v_canonical := v_canonical OPERATOR(pg_catalog.||) v_result;
    END LOOP;

    -- Collisions among the addresses to import.
    v_problems := v_problems OPERATOR(pg_catalog.||) ARRAY(
        SELECT pg_catalog.format('%s have one canonical form, %s',
                   pg_catalog.string_agg(pg_catalog.format('#%s %s', c.ordinal, authdb_quote_for_message(p_emails[c.ordinal])), ' and '::text ORDER BY c.ordinal),
                   authdb_quote_for_message(c.email))
          FROM pg_catalog.unnest(v_canonical) WITH ORDINALITY AS c (email, ordinal)
         WHERE c.email IS NOT NULL
         GROUP BY c.email
        HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1
         ORDER BY pg_catalog.min(c.ordinal));

    -- Collisions with users already registered.
    v_problems := v_problems OPERATOR(pg_catalog.||) ARRAY(
        SELECT pg_catalog.format('#%s %s is %s, already a registered user', c.ordinal,
                   authdb_quote_for_message(p_emails[c.ordinal]), authdb_quote_for_message(c.email))
          FROM pg_catalog.unnest(v_canonical) WITH ORDINALITY AS c (email, ordinal)
          JOIN users AS u ON u.email OPERATOR(pg_catalog.=) c.email
         ORDER BY c.ordinal);

    IF pg_catalog.cardinality(v_problems) OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU005',
            MESSAGE = pg_catalog.format('p_emails: %s of %s addresses cannot be imported as they are',
                                        pg_catalog.cardinality(v_problems), pg_catalog.cardinality(p_emails)),
            DETAIL  = pg_catalog.array_to_string(v_problems[1:50], E'\n'::text)
                      OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.cardinality(v_problems) OPERATOR(pg_catalog.>) 50
                                                   THEN pg_catalog.format(E'\n... and %s more', pg_catalog.cardinality(v_problems) - 50)
                                                   ELSE ''::text END,
            HINT    = 'Fix or merge these rows deliberately before importing; authdb never merges accounts silently.';
    END IF;
END;
$function$;

COMMENT ON FUNCTION authdb_check_email_import(text[], boolean) IS
    'Operator tool. Raises one AU005 listing every address of p_emails that is invalid, collides with another under canonical_email(), or is already a user''s (and, with p_canonicalize = false, every address not in canonical form). SECURITY INVOKER.';
REVOKE EXECUTE ON FUNCTION authdb_check_email_import(text[], boolean) FROM PUBLIC;
