-- ---------------------------------------------------------------------------
-- register_user_with_token: register an e-mail address (or re-register an
-- unconfirmed one) and issue a verification token and a registration secret.
--
--   no user with that e-mail        -> user created (e-mail and role only:
--                                      an unconfirmed user holds no password
--                                      hash and no phone), token issued,
--                                      outcome 'created'
--   user exists, e-mail confirmed   -> AU001
--   phone confirmed by another user -> AU002
--   user exists, unconfirmed, last
--     token issued < p_min_resend_interval ago -> AU008 ('0 seconds': never)
--   user exists, unconfirmed, 5 usable tokens outstanding -> AU013
--   user exists, unconfirmed        -> a new token issued, outcome
--                                      'reissued'.  Earlier registrations'
--                                      tokens stay valid, unchanged; the
--                                      user row is NOT changed.
--
-- email is the address as stored (canonical_email(p_email)): mail the token
-- to it, not to the spelling the user typed.
--
-- Either way this request's password hash, phone and role travel with the
-- new token, together with the SHA-256 of registration_secret, and reach the
-- user only through verify_email (password and phone only with the secret).
--
-- Race safety: INSERT ... ON CONFLICT (email) DO NOTHING either creates the
-- user or inserts nothing because the e-mail exists; if another transaction
-- inserted it and is still open, the INSERT first waits for that transaction
-- (and inserts after all if it rolls back).  When nothing was inserted we
-- lock the existing row FOR NO KEY UPDATE (a fresh statement, so under READ
-- COMMITTED it sees the committed row) and decide AU001 / AU008 / reissue
-- under that lock; concurrent registrations of one address therefore run one
-- after the other: exactly one 'created', the rest 'reissued' or AU008, never
-- 23505, 23503 or a deadlock.  If the conflicting row is deleted before we
-- can lock it, the loop simply tries the insert again.
--
-- Order of checks: first the input bounds of the text arguments, in
-- parameter order (AU005, AU009, AU006, AU003: "<argument>: must be at most
-- N characters"); then the arguments in parameter order (AU005, AU009
-- password hash, AU006, AU003, AU004, AU009 intervals), then AU001, then
-- AU002, then AU008, then AU013.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION register_user_with_token(
    p_email               text,
    p_password_hash       text     DEFAULT NULL,
    p_phone               text     DEFAULT NULL,
    p_role                text     DEFAULT 'user',
    p_token_ttl           interval DEFAULT '24 hours',
    p_min_resend_interval interval DEFAULT '60 seconds'
)
RETURNS TABLE (user_id uuid, token text, expires_at timestamptz, outcome text, registration_secret text, email text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    v_email           text;
    v_phone           text;
    v_self_assignable boolean;
    v_confirmed_at    timestamptz;
    v_last_issued_at  timestamptz;
    v_usable          bigint;
    v_oldest_expiry   timestamptz;
    v_ended           bigint;
BEGIN
    -- 0. The input bounds of every text argument, in parameter order,
    --    before any other work (see "Input bounds" in migration
    --    20261125000002_users).  1024 characters of password hash: far more
    --    than any format (argon2id ~100, bcrypt 60), far less than what
    --    would bloat every row that holds one.
    IF NOT (authdb_text_fits(p_email, 1024) AND authdb_text_fits(p_password_hash, 1024)
            AND authdb_text_fits(p_phone, 64) AND authdb_text_fits(p_role, 63)) THEN
        PERFORM authdb_require_text_fits(p_email, 'p_email'::text, 1024, 'AU005'::text);
        PERFORM authdb_require_text_fits(p_password_hash, 'p_password_hash'::text, 1024, 'AU009'::text);
        PERFORM authdb_require_text_fits(p_phone, 'p_phone'::text, 64, 'AU006'::text);
        PERFORM authdb_require_text_fits(p_role, 'p_role'::text, 63, 'AU003'::text);
    END IF;

    -- 1. Validate and normalise every argument before touching any table.
    --    canonical_email(p_email) (AU009 NULL, AU005 invalid), through the
    --    inlined ASCII fast path when it decides.
    v_email := coalesce(authdb_email_ascii_canonical(p_email), canonical_email(p_email));

    IF p_password_hash = '' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_password_hash: must be NULL (passwordless) or a non-empty hash of at most 1024 characters';
    END IF;

    IF p_phone IS NOT NULL THEN
        v_phone := authdb_normalize_phone(p_phone);
    END IF;

    IF p_role IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_role: must not be NULL',
            HINT    = 'Omit the argument to use the default role "user".';
    END IF;

    -- FOR KEY SHARE is the lock the foreign-key checks of the inserts below
    -- take on this row anyway (they then find it held: no second lock, no
    -- WAL).  Taken here, before the check, it keeps the role from being
    -- deleted or renamed between this check and the inserts, which could
    -- otherwise fail with a raw 23503.  It does not block concurrent
    -- registrations.
    SELECT r.self_assignable
      INTO v_self_assignable
      FROM roles AS r
     WHERE r.name = p_role
       FOR KEY SHARE;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU003',
            MESSAGE = pg_catalog.format('p_role: role %s does not exist', authdb_quote_for_message(p_role)),
            HINT    = 'Roles are rows of the roles table.';
    END IF;

    IF NOT v_self_assignable THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU004',
            MESSAGE = pg_catalog.format('p_role: role %s cannot be self-assigned at registration', authdb_quote_for_message(p_role)),
            HINT    = 'Register with a self-assignable role; an operator grants other roles afterwards.';
    END IF;

    IF NOT (authdb_interval_is_valid(p_token_ttl, false) AND authdb_interval_is_valid(p_min_resend_interval, true)) THEN
        PERFORM authdb_require_interval(p_token_ttl, 'p_token_ttl'::text, false);
        PERFORM authdb_require_interval(p_min_resend_interval, 'p_min_resend_interval'::text, true);
    END IF;

    -- 2. Create the user, or lock the existing one.  (user_id and the other
    --    OUT parameters are variables here: every column is qualified.)
    LOOP
        INSERT INTO users AS u (id, email, role)
        VALUES (pg_catalog.gen_random_uuid(), v_email, p_role)
        ON CONFLICT ON CONSTRAINT users_email_key DO NOTHING
        RETURNING u.id INTO user_id;

        IF FOUND THEN
            outcome := 'created';
            EXIT;
        END IF;

        SELECT u.id, u.email_confirmed_at
          INTO user_id, v_confirmed_at
          FROM users AS u
         WHERE u.email = v_email
           FOR NO KEY UPDATE;

        IF FOUND THEN
            outcome := 'reissued';
            EXIT;
        END IF;
        -- The conflicting row vanished before we could lock it: retry.
    END LOOP;

    -- 3. Decide under the row lock.  (For a new user, raising here also
    --    undoes the INSERT above: nothing of this call survives an error.)
    IF v_confirmed_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU001',
            MESSAGE = pg_catalog.format('p_email: email %s is already registered and confirmed', authdb_quote_for_message(v_email)),
            HINT    = 'Sign in, or use the password-reset flow.';
    END IF;

    -- Unconfirmed claims on a phone number may coexist; a number confirmed
    -- by another account may not be claimed.  (Served by the partial unique
    -- index users_confirmed_phone_key.)
    IF v_phone IS NOT NULL AND EXISTS (
        SELECT 1
          FROM users AS o
         WHERE o.phone = v_phone
           AND o.phone_confirmed_at IS NOT NULL
           AND o.id <> user_id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU002',
            MESSAGE = pg_catalog.format('p_phone: phone %s is already registered and confirmed by another user', authdb_quote_for_message(v_phone)),
            HINT    = 'Register without a phone number or with a different one.';
    END IF;

    -- 4. An existing user: one pass over its tokens (at most a handful: the
    --    trim below keeps five ended ones) for the throttle, the usable-token
    --    bound and whether there is anything to trim.  A new user has no
    --    token yet: nothing to read.
    --
    --    Throttle (as resend_email_verification's) on the most recently
    --    issued token, whatever its state.  Issue order is id order: ids come
    --    from an identity sequence and issues for one user are serialised by
    --    the row lock.
    IF outcome = 'reissued' THEN
        SELECT (pg_catalog.array_agg(t.created_at ORDER BY t.id DESC))[1],
               pg_catalog.count(*) FILTER (WHERE t.consumed_at IS NULL AND t.revoked_at IS NULL
                                             AND t.expires_at > pg_catalog.clock_timestamp()),
               pg_catalog.min(t.expires_at) FILTER (WHERE t.consumed_at IS NULL AND t.revoked_at IS NULL
                                                      AND t.expires_at > pg_catalog.clock_timestamp()),
               pg_catalog.count(*) FILTER (WHERE t.consumed_at IS NOT NULL OR t.revoked_at IS NOT NULL
                                             OR t.expires_at <= pg_catalog.clock_timestamp())
          INTO v_last_issued_at, v_usable, v_oldest_expiry, v_ended
          FROM email_verification_tokens AS t
         WHERE t.user_id = register_user_with_token.user_id;

        IF p_min_resend_interval > interval '0' AND v_last_issued_at > pg_catalog.now() - p_min_resend_interval THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AU008',
                MESSAGE = pg_catalog.format('p_email: a verification token for %s was issued less than %s ago', authdb_quote_for_message(v_email), p_min_resend_interval),
                DETAIL  = pg_catalog.format('The last token was issued at %s; p_min_resend_interval is %s.', v_last_issued_at, p_min_resend_interval),
                HINT    = pg_catalog.format('Retry after %s.', v_last_issued_at + p_min_resend_interval);
        END IF;

        IF v_usable >= 5 THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AU013',
                MESSAGE = pg_catalog.format('p_email: %s has %s verification links outstanding; no new one is sent before the oldest expires at %s', authdb_quote_for_message(v_email), v_usable, v_oldest_expiry),
                DETAIL  = 'At most 5 unexpired, unused links are outstanding per address; none is revoked to make room for another.',
                HINT    = pg_catalog.format('Use one of the links already mailed to the address, or try again after %s.', v_oldest_expiry);
        END IF;

        -- Keep the five most recent ended tokens (consumed, revoked or
        -- expired); a token another transaction holds is left for later.
        IF v_ended > 5 THEN
            DELETE FROM email_verification_tokens AS t
             WHERE t.id IN (SELECT o.id
                              FROM email_verification_tokens AS o
                             WHERE o.user_id = register_user_with_token.user_id
                               AND (o.consumed_at IS NOT NULL
                                    OR o.revoked_at IS NOT NULL
                                    OR o.expires_at <= pg_catalog.clock_timestamp())
                             ORDER BY o.id DESC
                            OFFSET 5
                               FOR UPDATE SKIP LOCKED);
        END IF;
    END IF;

    -- 5. Issue the token (see "Issuing a token" above); it carries this
    --    request's details and the hash of its registration secret.
    registration_secret := pg_catalog.translate(pg_catalog.encode(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) OPERATOR(pg_catalog.||) pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'base64'::text), '+/='::text, '-_'::text);
    token               := pg_catalog.translate(pg_catalog.encode(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) OPERATOR(pg_catalog.||) pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'base64'::text), '+/='::text, '-_'::text);
    expires_at          := pg_catalog.now() + p_token_ttl;
    email               := v_email;

    INSERT INTO email_verification_tokens
           (user_id, token_hash, registration_secret_hash, password_hash, phone, role, expires_at)
    VALUES (user_id,
            pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'::pg_catalog.name)),
            pg_catalog.sha256(pg_catalog.convert_to(registration_secret, 'UTF8'::pg_catalog.name)),
            p_password_hash, v_phone, p_role, register_user_with_token.expires_at);

    RETURN NEXT;
END;
$function$;

COMMENT ON FUNCTION register_user_with_token(text, text, text, text, interval, interval) IS
    'Registers p_email (normalised) and issues an e-mail verification token and a registration secret, each returned once in plaintext: the token for the mail, the secret for the registering client only. outcome = ''created'' for a new user, ''reissued'' for an existing unconfirmed user (earlier tokens stay valid, never revoked; at most 5 usable per user); email = the address as stored, to mail the token to. The password hash and phone take effect only when the token is verified with the secret. Errors: AU001 email confirmed, AU002 phone confirmed by another user, AU003/AU004 role, AU005 email, AU006 phone, AU008 too soon, AU009 other argument, AU013 5 usable tokens outstanding. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION register_user_with_token(text, text, text, text, interval, interval) FROM PUBLIC;
