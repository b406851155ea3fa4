-- ---------------------------------------------------------------------------
-- sign_in_credentials: what a sign-in needs, for a confirmed address only.
--
-- Looks p_email up exactly as registration does (canonical_email) and
-- returns the user's id, password hash (NULL for a passwordless account) and
-- role -- one row if the address belongs to a confirmed account, none
-- otherwise (unknown or unconfirmed: an unconfirmed account has no password
-- yet).  The application checks the password against the hash itself (the
-- typed client's verifyPassword does, in constant work).
--   invalid address -> AU005, NULL -> AU009
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION sign_in_credentials(p_email text)
RETURNS TABLE (user_id uuid, password_hash text, role text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path FROM CURRENT
SET plan_cache_mode = force_generic_plan
AS $function$
DECLARE
    v_email text;
BEGIN
    -- The input bound before any other work.
    IF NOT authdb_text_fits(p_email, 1024) THEN
        PERFORM authdb_require_text_fits(p_email, 'p_email'::text, 1024, 'AU005'::text);
    END IF;
    v_email := coalesce(authdb_email_ascii_canonical(p_email), canonical_email(p_email));

    RETURN QUERY
    SELECT u.id, u.password_hash, u.role
      FROM users AS u
     WHERE u.email = v_email
       AND u.email_confirmed_at IS NOT NULL;
END;
$function$;

COMMENT ON FUNCTION sign_in_credentials(text) IS
    'Sign-in lookup: user_id, password_hash (NULL = passwordless) and role of the confirmed account with e-mail p_email (normalised as at registration); no row for an unknown or unconfirmed address. Errors: AU005 invalid email, AU009 NULL. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION sign_in_credentials(text) FROM PUBLIC;
