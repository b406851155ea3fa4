-- ---------------------------------------------------------------------------
-- verify_email: consume a token and confirm its user's e-mail address.
--
-- On success, in one transaction: the token is marked consumed, the user's
-- other outstanding tokens are revoked, email_confirmed_at is set (an
-- existing confirmation time is kept), the role the token carries is
-- applied, and:
--   * with the token's registration secret: the password hash and phone the
--     registration carried are applied exactly as requested (NULL = none);
--   * without it (or with a wrong one): no carried password hash or phone
--     takes effect;
--   * p_password_hash, when given, becomes the password in either case: it
--     was chosen by whoever holds the mailed token, i.e. the address's owner.
--
-- Phone edge case: the carried phone is applied even if another user has
-- confirmed that number in the meantime.  Unconfirmed claims may coexist, and
-- phone confirmation is a separate flow, so phone_confirmed_at is kept only
-- if the number is unchanged and cleared otherwise; the confirmed-only
-- unique index therefore cannot be violated here.
--
-- Locking: the token is first looked up without a lock to find its user;
-- then the user row is locked (the lock order of every authdb function) and
-- the token is re-read: every writer of a token holds its user's lock, so
-- this read sees its final state.  Two concurrent calls with one token
-- queue on the user lock; the second sees the token consumed -> AU012.
--
--   unknown token -> AU010, expired -> AU011, already used or revoked -> AU012
--   the token's role no longer self-assignable -> AU004 (nothing changes)
--   NULL token or empty p_password_hash -> AU009
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION verify_email(
    p_token               text,
    p_registration_secret text DEFAULT NULL,
    p_password_hash       text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    v_token_hash  bytea;
    v_user_id     uuid;
    v_token       email_verification_tokens%ROWTYPE;
    v_with_secret boolean;
BEGIN
    IF p_token IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_token: must not be NULL';
    END IF;

    -- The input bounds before any other work (authdb issues tokens and
    -- secrets of 43 characters).
    IF NOT (authdb_text_fits(p_token, 64) AND authdb_text_fits(p_registration_secret, 64)
            AND authdb_text_fits(p_password_hash, 1024)) THEN
        PERFORM authdb_require_text_fits(p_token, 'p_token'::text, 64, 'AU009'::text);
        PERFORM authdb_require_text_fits(p_registration_secret, 'p_registration_secret'::text, 64, 'AU009'::text);
        PERFORM authdb_require_text_fits(p_password_hash, 'p_password_hash'::text, 1024, 'AU009'::text);
    END IF;

    IF p_password_hash = '' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_password_hash: must be NULL (no password chosen now) or a non-empty hash of at most 1024 characters';
    END IF;

    v_token_hash := pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8'::pg_catalog.name));

    SELECT t.user_id
      INTO v_user_id
      FROM email_verification_tokens AS t
     WHERE t.token_hash = v_token_hash;

    IF FOUND THEN
        PERFORM
          FROM users AS u
         WHERE u.id = v_user_id
           FOR NO KEY UPDATE;

        -- Re-read under the user lock: this sees every committed change.
        SELECT t.*
          INTO v_token
          FROM email_verification_tokens AS t
         WHERE t.token_hash = v_token_hash;
    END IF;

    -- Not found at all, or deleted (user deleted, tokens purged) meanwhile.
    IF v_token.id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU010',
            MESSAGE = 'p_token: unknown email verification token',
            HINT    = 'Check that the complete token was used, or request a new verification email.';
    END IF;

    IF v_token.consumed_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU012',
            MESSAGE = 'p_token: email verification token has already been used',
            DETAIL  = pg_catalog.format('It was used at %s.', v_token.consumed_at);
    END IF;

    IF v_token.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU012',
            MESSAGE = 'p_token: email verification token has been revoked',
            DETAIL  = pg_catalog.format('It was revoked at %s, when another token of the user was verified or a resend with its registration secret replaced it.', v_token.revoked_at),
            HINT    = 'Request a new verification email.';
    END IF;

    -- The time of the check, not of the transaction's start: a transaction
    -- that began before the token expired does not get to use it after.
    IF v_token.expires_at <= pg_catalog.clock_timestamp() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU011',
            MESSAGE = 'p_token: email verification token has expired',
            DETAIL  = pg_catalog.format('It expired at %s.', v_token.expires_at),
            HINT    = 'Request a new verification email.';
    END IF;

    -- The role is checked when it takes effect: one made non-self-assignable
    -- since the registration is not applied.  The token stays usable (a new
    -- registration with a self-assignable role gets a link of its own).
    -- FOR KEY SHARE, as at registration: the role cannot be deleted or
    -- renamed before the UPDATE below.
    PERFORM
      FROM roles AS r
     WHERE r.name = v_token.role
       AND r.self_assignable
       FOR KEY SHARE;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU004',
            MESSAGE = pg_catalog.format('p_token: the role %s this registration chose can no longer be self-assigned', authdb_quote_for_message(v_token.role)),
            DETAIL  = 'Nothing was changed; the token stays valid until it expires.',
            HINT    = 'Register again with a self-assignable role and verify that link; an operator grants other roles afterwards.';
    END IF;

    -- NULL secret, a token without a secret, or a mismatch: false.
    v_with_secret := coalesce(
        v_token.registration_secret_hash = pg_catalog.sha256(pg_catalog.convert_to(p_registration_secret, 'UTF8'::pg_catalog.name)),
        false);

    -- One statement consumes this token and revokes the user's others.
    -- greatest(): a token issued by a transaction that started after this
    -- one must not end before it was created.
    UPDATE email_verification_tokens AS t
       SET consumed_at = CASE WHEN t.id = v_token.id THEN greatest(pg_catalog.now(), t.created_at) END,
           revoked_at  = CASE WHEN t.id = v_token.id THEN NULL ELSE greatest(pg_catalog.now(), t.created_at) END
     WHERE t.user_id = v_token.user_id
       AND t.consumed_at IS NULL
       AND t.revoked_at IS NULL;

    UPDATE users AS u
       SET email_confirmed_at = coalesce(u.email_confirmed_at, pg_catalog.now()),
           password_hash      = CASE
                                    WHEN p_password_hash IS NOT NULL THEN p_password_hash
                                    WHEN v_with_secret THEN v_token.password_hash
                                    ELSE u.password_hash
                                END,
           role               = v_token.role,
           phone              = CASE WHEN v_with_secret THEN v_token.phone ELSE u.phone END,
           phone_confirmed_at = CASE
                                    WHEN u.phone IS NOT DISTINCT FROM CASE WHEN v_with_secret THEN v_token.phone ELSE u.phone END
                                    THEN u.phone_confirmed_at
                                END
     WHERE u.id = v_token.user_id;

    RETURN v_token.user_id;
END;
$function$;

COMMENT ON FUNCTION verify_email(text, text, text) IS
    'Consumes an e-mail verification token: confirms the user''s e-mail and applies the token''s role; with the matching p_registration_secret also the password hash and phone that registration carried; p_password_hash, if given, becomes the password either way. Revokes the user''s other outstanding tokens; returns the user id. Errors: AU004 the token''s role is no longer self-assignable, AU009 NULL token or empty hash, AU010 unknown, AU011 expired (by clock_timestamp()), AU012 already used or revoked. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION verify_email(text, text, text) FROM PUBLIC;
