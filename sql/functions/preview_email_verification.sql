-- ---------------------------------------------------------------------------
-- preview_email_verification: what verify_email would do with this token
-- (and secret), without doing it.  Always returns one row:
--   user_id                     the token's user (NULL for an unknown token)
--   token_state                 'valid', 'unknown' (AU010), 'expired'
--                               (AU011), 'used' or 'revoked' (AU012)
--   token_valid                 token_state = 'valid'
--   registration_secret_matches the secret is the token's registration's
--   sets_password               verify_email without p_password_hash would
--                               set a password (valid token, matching
--                               secret, registration with a password hash);
--                               when false, ask the user for a password
--   sets_phone                  likewise for the phone
--   role                        the role verification would give (not
--                               re-checked here: verify_email refuses,
--                               AU004, one no longer self-assignable)
--   expires_at                  the token's expiry (states by clock_timestamp())
-- Read-only; takes no locks.  AU009 for a NULL token.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION preview_email_verification(
    p_token               text,
    p_registration_secret text DEFAULT NULL
)
RETURNS TABLE (
    user_id                     uuid,
    token_state                 text,
    token_valid                 boolean,
    registration_secret_matches boolean,
    sets_password               boolean,
    sets_phone                  boolean,
    role                        text,
    expires_at                  timestamptz
)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    v_token email_verification_tokens%ROWTYPE;
BEGIN
    IF p_token IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_token: must not be NULL';
    END IF;

    -- The input bounds before any other work (authdb issues 43 characters).
    IF NOT (authdb_text_fits(p_token, 64) AND authdb_text_fits(p_registration_secret, 64)) THEN
        PERFORM authdb_require_text_fits(p_token, 'p_token'::text, 64, 'AU009'::text);
        PERFORM authdb_require_text_fits(p_registration_secret, 'p_registration_secret'::text, 64, 'AU009'::text);
    END IF;

    SELECT t.*
      INTO v_token
      FROM email_verification_tokens AS t
     WHERE t.token_hash = pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8'::pg_catalog.name));

    user_id     := v_token.user_id;
    role        := v_token.role;
    expires_at  := v_token.expires_at;
    token_state := CASE
                       WHEN v_token.id IS NULL THEN 'unknown'
                       WHEN v_token.consumed_at IS NOT NULL THEN 'used'
                       WHEN v_token.revoked_at IS NOT NULL THEN 'revoked'
                       WHEN v_token.expires_at <= pg_catalog.clock_timestamp() THEN 'expired'
                       ELSE 'valid'
                   END;
    token_valid := token_state = 'valid';
    registration_secret_matches := coalesce(
        v_token.registration_secret_hash = pg_catalog.sha256(pg_catalog.convert_to(p_registration_secret, 'UTF8'::pg_catalog.name)),
        false);
    sets_password := token_valid AND registration_secret_matches AND v_token.password_hash IS NOT NULL;
    sets_phone    := token_valid AND registration_secret_matches AND v_token.phone IS NOT NULL;

    RETURN NEXT;
END;
$function$;

COMMENT ON FUNCTION preview_email_verification(text, text) IS
    'Read-only: what verify_email would do with p_token (and p_registration_secret): user_id, token_state (valid/unknown/expired/used/revoked), token_valid, registration_secret_matches, sets_password, sets_phone, role, expires_at. One row always. AU009 for a NULL token. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION preview_email_verification(text, text) FROM PUBLIC;
