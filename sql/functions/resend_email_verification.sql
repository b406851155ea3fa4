-- ---------------------------------------------------------------------------
-- resend_email_verification: issue a new token for an unconfirmed user.
--
--   with the registration secret of one of the user's registrations
--       -> a new token for that registration: it carries the same details
--          and secret hash; that registration's earlier outstanding tokens
--          are revoked (no other registration's: only the holder of a
--          registration's secret replaces its link);
--   without it (or with one that matches no registration of this user)
--       -> a token that carries no credentials: verifying it confirms the
--          address and sets only the password the verifier passes.
--   email is the address as stored: mail the token to it.
--
--   no user with that e-mail -> AU007
--   e-mail confirmed         -> AU001
--   last token issued less than p_min_resend_interval ago -> AU008
--   ('0 seconds': no throttle)
--   the role the token would carry is no longer self-assignable -> AU004
--   5 usable tokens outstanding (after the revocation above) -> AU013
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION resend_email_verification(
    p_email               text,
    p_token_ttl           interval DEFAULT '24 hours',
    p_min_resend_interval interval DEFAULT '60 seconds',
    p_registration_secret text     DEFAULT NULL
)
RETURNS TABLE (user_id uuid, token text, expires_at timestamptz, email text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    v_email          text;
    v_confirmed_at   timestamptz;
    v_role           text;
    v_last_issued_at timestamptz;
    v_secret_hash    bytea;
    v_registration   email_verification_tokens%ROWTYPE;
    v_usable         bigint;
    v_oldest_expiry  timestamptz;
BEGIN
    -- The input bounds before any other work (see register_user_with_token).
    IF NOT (authdb_text_fits(p_email, 1024) AND authdb_text_fits(p_registration_secret, 64)) THEN
        PERFORM authdb_require_text_fits(p_email, 'p_email'::text, 1024, 'AU005'::text);
        PERFORM authdb_require_text_fits(p_registration_secret, 'p_registration_secret'::text, 64, 'AU009'::text);
    END IF;

    v_email := coalesce(authdb_email_ascii_canonical(p_email), canonical_email(p_email));
    IF NOT (authdb_interval_is_valid(p_token_ttl, false) AND authdb_interval_is_valid(p_min_resend_interval, true)) THEN
        PERFORM authdb_require_interval(p_token_ttl, 'p_token_ttl'::text, false);
        PERFORM authdb_require_interval(p_min_resend_interval, 'p_min_resend_interval'::text, true);
    END IF;

    -- Same lock as register_user_with_token: serialises all issuing for this
    -- user.
    SELECT u.id, u.email_confirmed_at, u.role
      INTO user_id, v_confirmed_at, v_role
      FROM users AS u
     WHERE u.email = v_email
       FOR NO KEY UPDATE;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU007',
            MESSAGE = pg_catalog.format('p_email: no user is registered with email %s', authdb_quote_for_message(v_email)),
            HINT    = 'Register the address first (register_user_with_token).';
    END IF;

    IF v_confirmed_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU001',
            MESSAGE = pg_catalog.format('p_email: email %s is already registered and confirmed', authdb_quote_for_message(v_email)),
            HINT    = 'There is nothing to verify; sign in instead.';
    END IF;

    -- Throttle: the same statement as register_user_with_token's.
    IF p_min_resend_interval > interval '0' THEN
        SELECT t.created_at
          INTO v_last_issued_at
          FROM email_verification_tokens AS t
         WHERE t.user_id = resend_email_verification.user_id
         ORDER BY t.id DESC
         LIMIT 1;

        IF v_last_issued_at > pg_catalog.now() - p_min_resend_interval THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AU008',
                MESSAGE = pg_catalog.format('p_email: a verification token for %s was issued less than %s ago', authdb_quote_for_message(v_email), p_min_resend_interval),
                DETAIL  = pg_catalog.format('The last token was issued at %s; p_min_resend_interval is %s.', v_last_issued_at, p_min_resend_interval),
                HINT    = pg_catalog.format('Retry after %s.', v_last_issued_at + p_min_resend_interval);
        END IF;
    END IF;

    IF p_registration_secret IS NOT NULL THEN
        v_secret_hash := pg_catalog.sha256(pg_catalog.convert_to(p_registration_secret, 'UTF8'::pg_catalog.name));

        SELECT t.*
          INTO v_registration
          FROM email_verification_tokens AS t
         WHERE t.user_id = resend_email_verification.user_id
           AND t.registration_secret_hash = v_secret_hash
         ORDER BY t.id DESC
         LIMIT 1;
    END IF;

    IF v_registration.id IS NOT NULL THEN
        -- A new token for that registration supersedes its earlier ones
        -- (revoked first, in a statement of its own, so that the bound below
        -- no longer counts them).
        UPDATE email_verification_tokens AS t
           SET revoked_at = greatest(pg_catalog.now(), t.created_at)
         WHERE t.user_id = resend_email_verification.user_id
           AND t.registration_secret_hash = v_secret_hash
           AND t.consumed_at IS NULL
           AND t.revoked_at IS NULL;
    ELSE
        -- A token that carries no credentials, and the user's role.
        v_secret_hash := NULL;
        v_registration.role := v_role;
    END IF;

    -- The role is checked again now, when it will take effect: an operator
    -- may have made it non-self-assignable since the registration.
    PERFORM
      FROM roles AS r
     WHERE r.name = v_registration.role
       AND r.self_assignable
       FOR KEY SHARE;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU004',
            MESSAGE = pg_catalog.format('p_email: the role %s of this registration can no longer be self-assigned', authdb_quote_for_message(v_registration.role)),
            HINT    = 'Register again with a self-assignable role; an operator grants other roles afterwards.';
    END IF;

    -- Issue the token (see "Issuing a token" above).
    SELECT pg_catalog.count(*), pg_catalog.min(t.expires_at)
      INTO v_usable, v_oldest_expiry
      FROM email_verification_tokens AS t
     WHERE t.user_id = resend_email_verification.user_id
       AND t.consumed_at IS NULL
       AND t.revoked_at IS NULL
       AND t.expires_at > pg_catalog.clock_timestamp();

    IF v_usable >= 5 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU013',
            MESSAGE = pg_catalog.format('p_email: %s has %s verification links outstanding; no new one is sent before the oldest expires at %s', authdb_quote_for_message(v_email), v_usable, v_oldest_expiry),
            DETAIL  = 'At most 5 unexpired, unused links are outstanding per address; none is revoked to make room for another.',
            HINT    = pg_catalog.format('Use one of the links already mailed to the address, or try again after %s.', v_oldest_expiry);
    END IF;

    token      := pg_catalog.translate(pg_catalog.encode(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) OPERATOR(pg_catalog.||) pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'base64'::text), '+/='::text, '-_'::text);
    expires_at := pg_catalog.now() + p_token_ttl;
    email      := v_email;

    WITH trimmed AS (
        DELETE FROM email_verification_tokens AS t
         WHERE t.id IN (SELECT o.id
                          FROM email_verification_tokens AS o
                         WHERE o.user_id = resend_email_verification.user_id
                           AND (o.consumed_at IS NOT NULL
                                OR o.revoked_at IS NOT NULL
                                OR o.expires_at <= pg_catalog.clock_timestamp())
                         ORDER BY o.id DESC
                        OFFSET 5
                           FOR UPDATE SKIP LOCKED)
    )
    INSERT INTO email_verification_tokens
           (user_id, token_hash, registration_secret_hash, password_hash, phone, role, expires_at)
    VALUES (user_id,
            pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'::pg_catalog.name)),
            v_secret_hash, v_registration.password_hash, v_registration.phone, v_registration.role,
            resend_email_verification.expires_at);

    RETURN NEXT;
END;
$function$;

COMMENT ON FUNCTION resend_email_verification(text, interval, interval, text) IS
    'Issues a new e-mail verification token (returned once in plaintext) for an unconfirmed user. With p_registration_secret of one of its registrations: a token for that registration (same details; its earlier tokens revoked). Without: a token that carries no credentials. Other registrations'' tokens stay valid (at most 5 usable per user); email = the address as stored, to mail the token to. Errors: AU001 already confirmed, AU004 the carried role is no longer self-assignable, AU005 invalid email, AU007 unknown email, AU008 too soon, AU009 other argument, AU013 5 usable tokens outstanding. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION resend_email_verification(text, interval, interval, text) FROM PUBLIC;
