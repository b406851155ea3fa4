-- authdb migration 20261125000004_registration_functions (up)
--
-- Creates the SQL API of authdb.  Applications register users and verify
-- e-mail addresses ONLY through these functions; they need no privileges on
-- the tables:
--
--   register_user_with_token(p_email, p_password_hash, p_phone, p_role,
--                            p_token_ttl, p_min_resend_interval)
--   resend_email_verification(p_email, p_token_ttl, p_min_resend_interval)
--   verify_email(p_token)
--   purge_expired_email_verification_tokens(p_older_than)
--
-- plus private helpers (authdb_*) that the API functions call.
--
-- Security model
--   * The API functions are SECURITY DEFINER: they run with the privileges of
--     the role that ran the migrations (the owner of tables and functions).
--     Run the migrations as a dedicated owner role rather than a superuser,
--     so the functions hold no more power than the authdb tables need.
--   * Every function pins its search_path with SET search_path FROM CURRENT,
--     which captures the path the migration engine set for this migration:
--     <target schema>[, <pgcrypto schema>], pg_temp -- pg_temp last, so a
--     caller cannot shadow tables or functions with temporary objects.
--   * EXECUTE is revoked from PUBLIC on every function.  Operators grant it
--     to their application role explicitly, for example:
--       GRANT EXECUTE ON FUNCTION
--           register_user_with_token(text, text, text, text, interval, interval),
--           resend_email_verification(text, interval, interval),
--           verify_email(text)
--         TO my_app;
--       GRANT EXECUTE ON FUNCTION
--           purge_expired_email_verification_tokens(interval)
--         TO my_maintenance_job;
--     The authdb_* helpers need no grant: SECURITY DEFINER functions call them
--     as the owner.
--
-- Errors
--   Every rejected call raises SQLSTATE class AU with a message that starts
--   with the offending argument's name ("p_email: ...").  Messages may quote
--   e-mail addresses, phone numbers and role names (through
--   authdb_quote_for_message, so control and invisible characters never
--   reach the server log raw), but never password hashes or tokens.
--     AU001 email already registered (confirmed)
--     AU002 phone already confirmed by another user
--     AU003 unknown role                 AU004 role not self-assignable
--     AU005 invalid email                AU006 invalid phone
--     AU007 no such user                 AU008 resend too soon
--     AU009 other invalid argument (NULL where a value is required, empty
--           password hash, interval that is not positive and finite)
--     AU010 unknown token    AU011 token expired    AU012 token used/revoked
--   The functions never catch an exception, so an error aborts the whole
--   call and nothing it wrote survives.
--
-- Concurrency model (the functions are designed for READ COMMITTED, the
-- default isolation level)
--   * All authdb functions that change a user's tokens or confirmation state
--     first lock that user's row with SELECT ... FOR NO KEY UPDATE (or own it
--     because they just inserted it), and only then touch its tokens.  This
--     serialises every issue/verify for one user, and because the lock order
--     is always "user row, then token rows" the functions cannot deadlock
--     each other.  FOR NO KEY UPDATE (the lock an UPDATE of non-key columns
--     takes) conflicts with itself and with UPDATE/DELETE, but not with the
--     FOR KEY SHARE locks of foreign-key checks, so it does not block other
--     tables that reference users.  purge_expired_email_verification_tokens
--     takes no user locks: it deletes only tokens that no function will
--     modify again.
--   * Under REPEATABLE READ or SERIALIZABLE, concurrent calls can fail with
--     the usual serialization_failure (40001) and must be retried, as any
--     transaction at those levels.
--   * Timestamps use now() (transaction start), like the column defaults.
--     Hence a call whose transaction started before the previous token was
--     issued sees that token as issued "less than p_min_resend_interval ago"
--     (AU008), which is the intended outcome for simultaneous requests.
--
-- Run by the authdb engine in one transaction with
-- search_path = <target schema>[, <pgcrypto schema>], pg_temp.

-- ===========================================================================
-- Private helpers
-- ===========================================================================

-- authdb_quote_for_message(p_value), used by every message below, is created
-- by migration 20261125000002_users (the canonical e-mail form needs it).

-- ---------------------------------------------------------------------------
-- authdb_normalize_email(p_email) -> canonical_email(p_email): the canonical
-- form defined (with examples) in migration 20261125000002_users, which the
-- CHECK users_email_canonical also enforces.  AU009 if NULL, AU005 if it is
-- not a valid address.  Every lookup by e-mail goes through this function.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_normalize_email(p_email text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path FROM CURRENT
AS $function$
BEGIN
    RETURN canonical_email(p_email);
END;
$function$;

COMMENT ON FUNCTION authdb_normalize_email(text) IS
    'Private. Returns canonical_email(p_email): NFC, fixed lower-case table, domain per IDNA in Unicode form; raises AU009 if NULL, AU005 if it is not a valid address.';
REVOKE EXECUTE ON FUNCTION authdb_normalize_email(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- authdb_normalize_phone(p_phone) -> E.164 number, NULL for NULL, or AU006.
--
-- A "(0)" right after the country code -- the trunk prefix people write in
-- "+49 (0) 209 22334455" -- is removed: it is dialled only inside the
-- country and is never part of the international number.  ("(0)" anywhere
-- else is refused, AU006.)  Then the separators people type (spaces, "-",
-- ".", "(" and ")") are removed, and the result must be "+", a country code
-- that does not start with 0, and 8 to 15 digits in all.  No conversion of
-- national formats or "00" prefixes: the application must send
-- international numbers.  An empty string is rejected rather than treated as
-- "no phone": callers pass NULL for that, so a form bug cannot silently drop
-- a number.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_normalize_phone(p_phone text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_phone text;
BEGIN
    IF p_phone IS NULL THEN
        RETURN NULL;
    END IF;

    -- "+", a country code of 1 to 3 digits, then "(0)" (spaces allowed
    -- around and inside): drop the "(0)".
    v_phone := pg_catalog.regexp_replace(p_phone, E'^( *\\+ *[0-9]{1,3}) *\\( *0 *\\)'::text, E'\\1 '::text);

    IF v_phone OPERATOR(pg_catalog.~) E'\\( *0 *\\)'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = 'A "(0)" trunk prefix is accepted (and removed) only right after the country code, as in "+49 (0) 209 22334455".';
    END IF;

    -- translate() deletes every character of its second argument that has
    -- no counterpart in the third.
    v_phone := pg_catalog.translate(v_phone, ' -.()'::text, ''::text);

    IF v_phone OPERATOR(pg_catalog.!~) E'^\\+[1-9][0-9]{7,14}$'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = 'After removing a "(0)" trunk prefix, spaces, dashes, dots and parentheses a phone number must be "+" followed by 8 to 15 digits, the first not 0 (country codes never start with 0).',
            HINT    = 'Pass NULL when the user gave no phone number.';
    END IF;

    RETURN v_phone;
END;
$function$;

COMMENT ON FUNCTION authdb_normalize_phone(text) IS
    'Private. Returns p_phone in E.164 form ("(0)" trunk prefix after the country code, spaces, dashes, dots and parentheses removed; "+", a non-zero digit, 7-14 more digits), NULL for NULL; raises AU006 otherwise.';
REVOKE EXECUTE ON FUNCTION authdb_normalize_phone(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- authdb_require_positive_interval(p_value, p_name): AU009 unless p_value is
-- a positive, finite interval.  p_name is the argument name for the message.
-- The "now() + p_value > now()" test rejects mixed-sign intervals such as
-- '1 month -30 days 00:00:01', which compares as positive (interval
-- comparison counts a month as 30 days) yet moves a timestamp in February
-- backwards.  That test makes the function STABLE rather than IMMUTABLE.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_require_positive_interval(p_value interval, p_name text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path FROM CURRENT
AS $function$
BEGIN
    IF p_value IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = format('%s: must not be NULL', p_name),
            HINT    = 'Omit the argument to use its default.';
    END IF;

    IF NOT isfinite(p_value) OR p_value <= interval '0' OR now() + p_value <= now() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = format('%s: must be a positive interval, got %s', p_name, p_value);
    END IF;
END;
$function$;

COMMENT ON FUNCTION authdb_require_positive_interval(interval, text) IS
    'Private. Raises AU009 (naming argument p_name) unless p_value is a positive, finite interval.';
REVOKE EXECUTE ON FUNCTION authdb_require_positive_interval(interval, text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- authdb_require_self_assignable_role(p_role): AU009 if NULL, AU003 if the
-- role does not exist, AU004 if it is not self-assignable.
--
-- FOR KEY SHARE (the lock a foreign-key check takes anyway) keeps the role
-- from being deleted or renamed until the caller's transaction ends, so the
-- caller's later inserts cannot fail with a raw 23503.  It does not block
-- concurrent registrations.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_require_self_assignable_role(p_role text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_self_assignable boolean;
BEGIN
    IF p_role IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_role: must not be NULL',
            HINT    = 'Omit the argument to use the default role "user".';
    END IF;

    SELECT r.self_assignable
      INTO v_self_assignable
      FROM roles AS r
     WHERE r.name = p_role
       FOR KEY SHARE;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU003',
            MESSAGE = format('p_role: role %s does not exist', authdb_quote_for_message(p_role)),
            HINT    = 'Roles are rows of the roles table.';
    END IF;

    IF NOT v_self_assignable THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU004',
            MESSAGE = format('p_role: role %s cannot be self-assigned at registration', authdb_quote_for_message(p_role)),
            HINT    = 'Register with a self-assignable role; an operator grants other roles afterwards.';
    END IF;
END;
$function$;

COMMENT ON FUNCTION authdb_require_self_assignable_role(text) IS
    'Private. Raises AU009/AU003/AU004 unless p_role names a self-assignable role; key-share-locks the role row until the end of the transaction.';
REVOKE EXECUTE ON FUNCTION authdb_require_self_assignable_role(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- authdb_issue_email_verification_token(...) -> (token, expires_at)
--
-- Revokes the user's outstanding token (if any) and inserts a new one that
-- carries the given registration details.  Returns the plaintext token; only
-- its SHA-256 hash is stored.
--
-- PRECONDITION: the caller holds the user's row lock (or inserted the user in
-- this transaction) and has validated the arguments.  Because every issuer
-- holds that lock, "revoke, then insert" can never race with another issuer
-- for the same user, so the one-outstanding-token index is never violated.
--
-- Token: 32 bytes from pgcrypto's gen_random_bytes() (256 bits from a
-- cryptographically secure source), base64url-encoded without padding
-- (43 characters).  encode(..., 'base64') only wraps lines after 76
-- characters, but newlines are stripped anyway.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_issue_email_verification_token(
    p_user_id       uuid,
    p_password_hash text,
    p_phone         text,
    p_role          text,
    p_token_ttl     interval,
    OUT token       text,
    OUT expires_at  timestamptz
)
LANGUAGE plpgsql
VOLATILE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_token      text;
    v_expires_at timestamptz := now() + p_token_ttl;
BEGIN
    UPDATE email_verification_tokens AS t
       SET revoked_at = now()
     WHERE t.user_id = p_user_id
       AND t.consumed_at IS NULL
       AND t.revoked_at IS NULL;

    v_token := translate(encode(gen_random_bytes(32), 'base64'), E'+/=\n', '-_');

    INSERT INTO email_verification_tokens (user_id, token_hash, password_hash, phone, role, expires_at)
    VALUES (p_user_id, sha256(convert_to(v_token, 'UTF8')), p_password_hash, p_phone, p_role, v_expires_at);

    token      := v_token;
    expires_at := v_expires_at;
END;
$function$;

COMMENT ON FUNCTION authdb_issue_email_verification_token(uuid, text, text, text, interval) IS
    'Private. Revokes the user''s outstanding verification token and issues a new one carrying the given details; returns the plaintext token (stored only as SHA-256). Caller must hold the user''s row lock.';
REVOKE EXECUTE ON FUNCTION authdb_issue_email_verification_token(uuid, text, text, text, interval) FROM PUBLIC;

-- ===========================================================================
-- API
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- register_user_with_token: register an e-mail address (or re-register an
-- unconfirmed one) and issue a verification token.
--
--   no user with that e-mail        -> user created (with this request's
--                                      password hash, phone and role), token
--                                      issued, outcome 'created'
--   user exists, e-mail confirmed   -> AU001
--   phone confirmed by another user -> AU002
--   user exists, unconfirmed, last
--     token issued < p_min_resend_interval ago -> AU008
--   user exists, unconfirmed        -> outstanding token revoked, new token
--                                      issued, outcome 'reissued'.  The user
--                                      row is NOT changed: this request's
--                                      details travel in the new token and
--                                      are applied only by verify_email, so a
--                                      squatter's password never becomes
--                                      valid when the real owner confirms.
--
-- Race safety: INSERT ... ON CONFLICT (email) DO NOTHING either creates the
-- user or inserts nothing because the e-mail exists; if another transaction
-- inserted it and is still open, the INSERT first waits for that transaction
-- (and inserts after all if it rolls back).  When nothing was inserted we lock the existing row FOR NO KEY
-- UPDATE (a fresh statement, so under READ COMMITTED it sees the committed
-- row) and decide AU001 / AU008 / reissue under that lock; concurrent
-- registrations of one address therefore run one after the other: exactly
-- one 'created', the rest 'reissued' or AU008, never 23505, 23503 or a
-- deadlock.  If the conflicting row is deleted before we can lock it, the
-- loop simply tries the insert again.
--
-- Order of checks: the arguments in parameter order (AU005, AU006, AU003,
-- AU004, AU009), then AU001, then AU002, then AU008.
-- ---------------------------------------------------------------------------
CREATE FUNCTION register_user_with_token(
    p_email               text,
    p_password_hash       text     DEFAULT NULL,
    p_phone               text     DEFAULT NULL,
    p_role                text     DEFAULT 'user',
    p_token_ttl           interval DEFAULT '24 hours',
    p_min_resend_interval interval DEFAULT '60 seconds'
)
RETURNS TABLE (user_id uuid, token text, expires_at timestamptz, outcome text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_email          text;
    v_phone          text;
    v_user           users%ROWTYPE;
    v_outcome        text;
    v_last_issued_at timestamptz;
    v_issued         record;
BEGIN
    -- 1. Validate and normalise every argument before touching any table.
    v_email := authdb_normalize_email(p_email);

    IF p_password_hash = '' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_password_hash: must be NULL (passwordless) or a non-empty hash';
    END IF;

    v_phone := authdb_normalize_phone(p_phone);
    PERFORM authdb_require_self_assignable_role(p_role);
    PERFORM authdb_require_positive_interval(p_token_ttl, 'p_token_ttl');
    PERFORM authdb_require_positive_interval(p_min_resend_interval, 'p_min_resend_interval');

    -- 2. Create the user, or lock the existing one.
    LOOP
        INSERT INTO users AS u (id, email, password_hash, phone, role)
        VALUES (gen_random_uuid(), v_email, p_password_hash, v_phone, p_role)
        ON CONFLICT (email) DO NOTHING
        RETURNING u.* INTO v_user;

        IF FOUND THEN
            v_outcome := 'created';
            EXIT;
        END IF;

        SELECT u.*
          INTO v_user
          FROM users AS u
         WHERE u.email = v_email
           FOR NO KEY UPDATE;

        IF FOUND THEN
            v_outcome := 'reissued';
            EXIT;
        END IF;
        -- The conflicting row vanished before we could lock it: retry.
    END LOOP;

    -- 3. Decide under the row lock.  (For a new user, raising here also
    --    undoes the INSERT above: nothing of this call survives an error.)
    IF v_user.email_confirmed_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU001',
            MESSAGE = format('p_email: email %s is already registered and confirmed', authdb_quote_for_message(v_email)),
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
           AND o.id <> v_user.id
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU002',
            MESSAGE = format('p_phone: phone %s is already registered and confirmed by another user', authdb_quote_for_message(v_phone)),
            HINT    = 'Register without a phone number or with a different one.';
    END IF;

    IF v_outcome = 'reissued' THEN
        -- Throttle on the most recently issued token, whatever its state.
        -- Issue order is id order: ids come from an identity sequence and
        -- issues for one user are serialised by the row lock.
        SELECT t.created_at
          INTO v_last_issued_at
          FROM email_verification_tokens AS t
         WHERE t.user_id = v_user.id
         ORDER BY t.id DESC
         LIMIT 1;

        IF v_last_issued_at > now() - p_min_resend_interval THEN
            RAISE EXCEPTION USING
                ERRCODE = 'AU008',
                MESSAGE = format('p_email: a verification token for %s was issued less than %s ago', authdb_quote_for_message(v_email), p_min_resend_interval),
                DETAIL  = format('The last token was issued at %s; p_min_resend_interval is %s.', v_last_issued_at, p_min_resend_interval),
                HINT    = format('Retry after %s.', v_last_issued_at + p_min_resend_interval);
        END IF;
    END IF;

    -- 4. Issue the token; it carries this request's details.  For a new
    --    user they are also on the user row already (inserted above).
    SELECT i.token, i.expires_at
      INTO v_issued
      FROM authdb_issue_email_verification_token(v_user.id, p_password_hash, v_phone, p_role, p_token_ttl) AS i;

    RETURN QUERY SELECT v_user.id, v_issued.token, v_issued.expires_at, v_outcome;
END;
$function$;

COMMENT ON FUNCTION register_user_with_token(text, text, text, text, interval, interval) IS
    'Registers p_email (normalised) and issues an e-mail verification token, returned once in plaintext. outcome = ''created'' for a new user, ''reissued'' for an existing unconfirmed user (details take effect on verification). Errors: AU001 email confirmed, AU002 phone confirmed by another user, AU003/AU004 role, AU005 email, AU006 phone, AU008 too soon, AU009 other argument. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION register_user_with_token(text, text, text, text, interval, interval) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- resend_email_verification: issue a new token for an unconfirmed user.
--
-- The new token carries the pending registration details forward: those of
-- the user's most recently issued token (the latest registration request).
-- If the user has no token at all (only possible after tokens were deleted by
-- hand: the purge keeps each unconfirmed user's latest token) the details on
-- the user row are used.
--
--   no user with that e-mail -> AU007
--   e-mail confirmed         -> AU001
--   last token issued less than p_min_resend_interval ago -> AU008
-- ---------------------------------------------------------------------------
CREATE FUNCTION resend_email_verification(
    p_email               text,
    p_token_ttl           interval DEFAULT '24 hours',
    p_min_resend_interval interval DEFAULT '60 seconds'
)
RETURNS TABLE (user_id uuid, token text, expires_at timestamptz)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_email  text;
    v_user   users%ROWTYPE;
    v_last   email_verification_tokens%ROWTYPE;
    v_issued record;
BEGIN
    v_email := authdb_normalize_email(p_email);
    PERFORM authdb_require_positive_interval(p_token_ttl, 'p_token_ttl');
    PERFORM authdb_require_positive_interval(p_min_resend_interval, 'p_min_resend_interval');

    -- Same lock as register_user_with_token: serialises all issuing for this
    -- user.
    SELECT u.*
      INTO v_user
      FROM users AS u
     WHERE u.email = v_email
       FOR NO KEY UPDATE;

    IF NOT FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU007',
            MESSAGE = format('p_email: no user is registered with email %s', authdb_quote_for_message(v_email)),
            HINT    = 'Register the address first (register_user_with_token).';
    END IF;

    IF v_user.email_confirmed_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU001',
            MESSAGE = format('p_email: email %s is already registered and confirmed', authdb_quote_for_message(v_email)),
            HINT    = 'There is nothing to verify; sign in instead.';
    END IF;

    SELECT t.*
      INTO v_last
      FROM email_verification_tokens AS t
     WHERE t.user_id = v_user.id
     ORDER BY t.id DESC
     LIMIT 1;

    IF NOT FOUND THEN
        -- No token left: fall back to the details on the user row.
        v_last.password_hash := v_user.password_hash;
        v_last.phone         := v_user.phone;
        v_last.role          := v_user.role;
    ELSIF v_last.created_at > now() - p_min_resend_interval THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU008',
            MESSAGE = format('p_email: a verification token for %s was issued less than %s ago', authdb_quote_for_message(v_email), p_min_resend_interval),
            DETAIL  = format('The last token was issued at %s; p_min_resend_interval is %s.', v_last.created_at, p_min_resend_interval),
            HINT    = format('Retry after %s.', v_last.created_at + p_min_resend_interval);
    END IF;

    SELECT i.token, i.expires_at
      INTO v_issued
      FROM authdb_issue_email_verification_token(v_user.id, v_last.password_hash, v_last.phone, v_last.role, p_token_ttl) AS i;

    RETURN QUERY SELECT v_user.id, v_issued.token, v_issued.expires_at;
END;
$function$;

COMMENT ON FUNCTION resend_email_verification(text, interval, interval) IS
    'Issues a new e-mail verification token (returned once in plaintext) for an unconfirmed user, revoking the outstanding one and carrying the pending registration details forward. Errors: AU001 already confirmed, AU005 invalid email, AU007 unknown email, AU008 too soon, AU009 other argument. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION resend_email_verification(text, interval, interval) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- verify_email: consume a token and confirm its user's e-mail address.
--
-- On success, in one transaction: the token is marked consumed, the user's
-- other outstanding tokens are revoked (there are none while the
-- one-outstanding index holds; kept as a safety net), email_confirmed_at is
-- set (an existing confirmation time is kept), and the registration details
-- the token carries are applied to the user exactly as requested: password
-- hash, phone and role, NULLs included (a passwordless / phoneless request
-- clears what an earlier, possibly squatting, request stored).
--
-- Phone edge case: the token's phone is applied even if another user has
-- confirmed that number in the meantime.  Unconfirmed claims may coexist, and
-- phone confirmation is a separate flow, so phone_confirmed_at is kept only
-- if the number is unchanged and cleared otherwise; the confirmed-only
-- unique index therefore cannot be violated here.
--
-- Locking: the token is first looked up without a lock to find its user;
-- then the user row is locked (the lock order of every authdb function) and
-- the token is re-read FOR UPDATE and checked.  Two concurrent calls with one
-- token queue on the user lock; the second sees the token consumed -> AU012.
--
--   unknown token -> AU010, expired -> AU011, already used or revoked -> AU012
-- ---------------------------------------------------------------------------
CREATE FUNCTION verify_email(p_token text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_token_hash bytea;
    v_user_id    uuid;
    v_token      email_verification_tokens%ROWTYPE;
BEGIN
    IF p_token IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = 'p_token: must not be NULL';
    END IF;

    v_token_hash := sha256(convert_to(p_token, 'UTF8'));

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
         WHERE t.token_hash = v_token_hash
           FOR UPDATE;
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
            DETAIL  = format('It was used at %s.', v_token.consumed_at);
    END IF;

    IF v_token.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU012',
            MESSAGE = 'p_token: email verification token has been revoked',
            DETAIL  = format('It was superseded at %s by a newer token or another verification.', v_token.revoked_at),
            HINT    = 'Use the most recent verification email, or request a new one.';
    END IF;

    IF v_token.expires_at <= now() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU011',
            MESSAGE = 'p_token: email verification token has expired',
            DETAIL  = format('It expired at %s.', v_token.expires_at),
            HINT    = 'Request a new verification email.';
    END IF;

    UPDATE email_verification_tokens AS t
       SET consumed_at = now()
     WHERE t.id = v_token.id;

    UPDATE email_verification_tokens AS t
       SET revoked_at = now()
     WHERE t.user_id = v_token.user_id
       AND t.id <> v_token.id
       AND t.consumed_at IS NULL
       AND t.revoked_at IS NULL;

    UPDATE users AS u
       SET email_confirmed_at = coalesce(u.email_confirmed_at, now()),
           password_hash      = v_token.password_hash,
           role               = v_token.role,
           phone              = v_token.phone,
           phone_confirmed_at = CASE WHEN u.phone IS NOT DISTINCT FROM v_token.phone
                                     THEN u.phone_confirmed_at
                                END
     WHERE u.id = v_token.user_id;

    RETURN v_token.user_id;
END;
$function$;

COMMENT ON FUNCTION verify_email(text) IS
    'Consumes an e-mail verification token: confirms the user''s e-mail, applies the password hash, phone and role the token carries (phone_confirmed_at is cleared if the phone changes), revokes other outstanding tokens, returns the user id. Errors: AU009 NULL token, AU010 unknown, AU011 expired, AU012 already used or revoked. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION verify_email(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- purge_expired_email_verification_tokens: housekeeping, run periodically.
--
-- Deletes tokens that stopped being usable (expired, consumed or revoked)
-- longer than p_older_than ago, and returns how many it deleted.  It keeps
-- one kind of dead token: the most recently issued token of a user whose
-- e-mail is still unconfirmed.  That row records the pending registration
-- details; without it resend_email_verification would have to fall back to
-- the details stored on the user row by the first (possibly squatting)
-- registration.  Such users keep exactly one token row each; delete
-- abandoned unconfirmed users to remove it.
-- ---------------------------------------------------------------------------
CREATE FUNCTION purge_expired_email_verification_tokens(p_older_than interval DEFAULT '7 days')
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_deleted bigint;
BEGIN
    PERFORM authdb_require_positive_interval(p_older_than, 'p_older_than');

    -- least(...) is the instant the token stopped being usable; the
    -- expression index email_verification_tokens_ended_at_idx serves it.
    DELETE FROM email_verification_tokens AS t
     WHERE least(t.expires_at, t.consumed_at, t.revoked_at) < now() - p_older_than
       AND NOT (
               t.id = (SELECT max(l.id)
                         FROM email_verification_tokens AS l
                        WHERE l.user_id = t.user_id)
           AND EXISTS (SELECT 1
                         FROM users AS u
                        WHERE u.id = t.user_id
                          AND u.email_confirmed_at IS NULL)
       );

    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$function$;

COMMENT ON FUNCTION purge_expired_email_verification_tokens(interval) IS
    'Deletes e-mail verification tokens that expired, were consumed or were revoked more than p_older_than ago (default 7 days), except the latest token of each still-unconfirmed user; returns the number deleted. AU009 unless p_older_than is positive. SECURITY DEFINER; grant EXECUTE to the maintenance role.';
REVOKE EXECUTE ON FUNCTION purge_expired_email_verification_tokens(interval) FROM PUBLIC;
