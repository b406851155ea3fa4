-- authdb migration 20261125000004_registration_functions (up)
--
-- Creates the SQL API of authdb.  Applications register users, verify
-- e-mail addresses and sign users in ONLY through these functions; they need
-- no privileges on the tables:
--
--   register_user_with_token(p_email, p_password_hash, p_phone, p_role,
--                            p_token_ttl, p_min_resend_interval)
--   resend_email_verification(p_email, p_token_ttl, p_min_resend_interval,
--                             p_registration_secret)
--   preview_email_verification(p_token, p_registration_secret)
--   verify_email(p_token, p_registration_secret, p_password_hash)
--   sign_in_credentials(p_email)
--   purge_expired_email_verification_tokens(p_older_than)
--
-- plus private helpers (authdb_*) that the API functions call.
--
-- Security model
--   * The API functions are SECURITY DEFINER: they run with the privileges of
--     the role that ran the migrations (the owner of tables and functions).
--     Run the migrations as a dedicated owner role rather than a superuser,
--     so the functions hold no more power than the authdb tables need.
--   * Every PL/pgSQL function pins its search_path with SET search_path FROM
--     CURRENT, which captures the path the migration engine set for this
--     migration: <target schema>, pg_temp -- pg_temp last, so a caller cannot
--     shadow tables with temporary objects (functions and operators are
--     never looked up in pg_temp).  pg_catalog, not listed, is searched
--     first.  The few SQL helpers with a standard body (RETURN ...) need no
--     pinned path: their names are bound when they are created (see
--     "Helpers come in two kinds" below).
--   * Nothing a body calls can be shadowed or out-matched by an object in
--     another schema, even if a schema on the path becomes writable later:
--     every built-in function is called schema-qualified (pg_catalog.fn),
--     every call of an authdb_* helper passes arguments of exactly the
--     declared types (typed variables, or casts such as 'x'::text), and
--     every operator is applied to operands of exactly the types of a
--     pg_catalog operator (an untyped literal takes the other operand's
--     type), which PostgreSQL resolves to the first exact match on the path:
--     pg_catalog's.  No extension is used: ids and tokens come from core
--     gen_random_uuid() (a cryptographically strong random source) and
--     sha256() (PostgreSQL 13+).
--   * No secret reaches the server log through a query plan: the API
--     functions run with plan_cache_mode = force_generic_plan, so the plans
--     of their statements (which auto_explain may log, nested statements
--     included) show parameters as $n, never the value of a token, a
--     registration secret or a password hash.  Error messages never quote
--     those values either.
--   * EXECUTE is revoked from PUBLIC on every function.  Operators grant it
--     to their application role explicitly (authdb grant).  The authdb_*
--     helpers need no grant: SECURITY DEFINER functions call them as the
--     owner.
--
-- Registration secret and re-registration (account pre-hijacking)
--   register_user_with_token returns, besides the token to mail, a
--   registration secret for the registering client only (e.g. a cookie).
--   Only its SHA-256 is stored, on the token row, next to the details the
--   registration carries (password hash, phone, role).  verify_email applies
--   the carried password hash and phone only when given that secret; without
--   it the address is confirmed, the carried credentials are ignored, and
--   only a password hash passed by whoever holds the mailed token is set.
--   A later registration of the same unconfirmed address never revokes or
--   changes an earlier one's token: each pending registration keeps its own
--   until it expires or until another token of the user is verified (then
--   all others are revoked).  Only a resend with a registration's own secret
--   replaces that registration's token.
--   Bound: at most 5 usable (unexpired, unused, unrevoked) tokens per user;
--   while 5 are usable, no token is issued (AU013, naming when the oldest
--   expires) and none is revoked: whoever holds a link keeps it.  Ended
--   tokens beyond the 5 most recent are deleted at issue, so at most 10 are
--   stored per user (see "Issuing a token" below).
--
-- Errors
--   Every rejected call raises SQLSTATE class AU with a message that starts
--   with the offending argument's name ("p_email: ...").  Messages may quote
--   e-mail addresses, phone numbers and role names (through
--   authdb_quote_for_message, so control and invisible characters never
--   reach the server log raw), but never password hashes, tokens or
--   registration secrets.
--     AU001 email already registered (confirmed)
--     AU002 phone already confirmed by another user
--     AU003 unknown role                 AU004 role not self-assignable
--     AU005 invalid email                AU006 invalid phone
--     AU007 no such user                 AU008 resend too soon
--     AU009 other invalid argument (NULL where a value is required, empty
--           password hash, interval that is not positive and finite)
--     AU010 unknown token    AU011 token expired    AU012 token used/revoked
--     AU013 5 usable tokens outstanding: none issued until the oldest expires
--   Input bounds: every text argument longer than its limit (p_email 1024,
--   p_password_hash 1024, p_phone 64, p_role 63, p_token and
--   p_registration_secret 64 characters) is refused first, before any other
--   work, with the code of an invalid value of that argument (AU005,
--   AU009, AU006, AU003, AU009, AU009) and "<argument>: must be at most N
--   characters"; the value is never quoted.
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
--     deletes only tokens that no function will modify again, and deletes
--     users only after locking them (skipping those locked right now).
--   * Under REPEATABLE READ or SERIALIZABLE, concurrent calls can fail with
--     the usual serialization_failure (40001) and must be retried, as any
--     transaction at those levels.
--   * Timestamps written and the throttle use now() (transaction start), like
--     the column defaults.  Hence a call whose transaction started before the
--     previous token was issued sees that token as issued "less than
--     p_min_resend_interval ago" (AU008), which is the intended outcome for
--     simultaneous requests.  p_min_resend_interval => '0 seconds' turns the
--     throttle off.
--   * Expiry is decided by clock_timestamp(), the time of the check: a token
--     is not accepted after its expires_at by a transaction that began
--     before it, and the bound counts the tokens usable at that moment.
--
-- Run by the authdb engine in one transaction with
-- search_path = <target schema>, pg_temp.

-- ===========================================================================
-- Private helpers
-- ===========================================================================

-- authdb_quote_for_message(p_value), used by every message below, is created
-- by migration 20261125000002_users (the canonical e-mail form needs it).

-- Helpers come in two kinds.
--   * PL/pgSQL helpers (authdb_normalize_phone, authdb_require_interval) pin
--     their search_path like every API function.  A function with a SET
--     clause is never inlined and costs a GUC save and restore per call, so
--     the API functions call them only off the hot path: for a phone that
--     was given, for an interval that the inlined test below refuses.
--   * SQL helpers with a standard body (RETURN ...: authdb_interval_is_valid,
--     and authdb_email_ascii_canonical of migration
--     20261125000002_users) have no SET clause and are not SECURITY DEFINER,
--     so the planner inlines them into the calling expression.  They need no
--     pinned search_path: a standard body is parsed and bound to its
--     functions, operators and types once, when it is created (with the
--     path of this migration, every built-in qualified with pg_catalog
--     anyway), and a search_path or an object planted later cannot change
--     what it calls.
--   The API functions do the rest of their work in their own statements:
--   each table statement and each helper call is a cost on every
--   registration (issue 11).

-- ---------------------------------------------------------------------------
-- The canonical e-mail form: API functions compute it as
--     coalesce(authdb_email_ascii_canonical(p_email), canonical_email(p_email))
-- -- the inlined ASCII fast path, and canonical_email (AU009 if NULL, AU005
-- if not a valid address) for everything else -- which is exactly
-- canonical_email(p_email), defined (with examples) in migration
-- 20261125000002_users and enforced by the CHECK users_email_canonical.
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- authdb_normalize_phone(p_phone) -> E.164 number, NULL for NULL, or AU006.
--
-- A "(0)" right after the country code -- the trunk prefix people write in
-- "+49 (0) 209 22334455" or "+49-(0)-209-22334455" -- is removed: it is
-- dialled only inside the country and is never part of the international
-- number.  Spaces, dashes and dots may stand (in any mix) around the "+",
-- between the country code and the "(0)", inside its parentheses and after
-- it.  ("(0)" anywhere else is refused, AU006, and so is a group right
-- after the country code that starts with 0, below.)  Then the separators people
-- type (spaces, "-", ".", "(" and ")") are removed, and the result must be
-- "+", a country code that does not start with 0, and 8 to 15 digits in
-- all.  No conversion of national formats or "00" prefixes: the application
-- must send international numbers.  An empty string is rejected rather than
-- treated as "no phone": callers pass NULL for that, so a form bug cannot
-- silently drop a number.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_normalize_phone(p_phone text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path FROM CURRENT
AS $function$
DECLARE
    v_phone text;
    v_country text;
BEGIN
    IF p_phone IS NULL THEN
        RETURN NULL;
    END IF;
    -- The input bound, before the regular expressions below (callers check
    -- it too: register_user_with_token before any other work).
    PERFORM authdb_require_text_fits(p_phone, 'p_phone'::text, 64, 'AU006'::text);

    -- "+", a country code of 1 to 3 digits, then "(0)", with spaces,
    -- dashes and dots ([ .-]) allowed around and inside: drop the "(0)".
    v_phone := pg_catalog.regexp_replace(p_phone, E'^([ .-]*\\+[ .-]*[0-9]{1,3})[ .-]*\\([ .-]*0[ .-]*\\)'::text, E'\\1 '::text);

    IF v_phone OPERATOR(pg_catalog.~) E'\\([ .-]*0[ .-]*\\)'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = 'A "(0)" trunk prefix is accepted (and removed) only right after the country code, as in "+49 (0) 209 22334455".';
    END IF;

    -- A group right after the country code that starts with 0 -- "+49 (0209)
    -- 22334455", "+44 020 7946 0958" -- carries the trunk prefix inside the
    -- area code: stored as typed it would be another number (+49020922334455),
    -- which the AU002 check would not match with +4920922334455.  Refused
    -- rather than guessed, except for the country codes whose numbers do
    -- start with 0 (Italy 39, San Marino 378, Vatican 379, Cote d'Ivoire 225,
    -- Republic of the Congo 242).  Only the grouping the user typed shows
    -- where the country code ends: "+490209..." is not caught.
    v_country := pg_catalog.substring(v_phone, E'^[ .-]*\\+[ .-]*([0-9]{1,3})(?:[ .-]+|[ .-]*\\()[ .-]*0'::text);
    IF v_country IS NOT NULL AND v_country OPERATOR(pg_catalog.<>) ALL ('{39,378,379,225,242}'::text[]) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU006',
            MESSAGE = pg_catalog.format('p_phone: %s is not a valid E.164 phone number', authdb_quote_for_message(p_phone)),
            DETAIL  = pg_catalog.format('The digits after the country code +%s start with 0, a trunk prefix dialled only inside the country: leave it out ("+49 209 22334455") or write it as "(0)" right after the country code ("+49 (0) 209 22334455").', v_country);
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
CREATE FUNCTION authdb_interval_is_valid(p_value interval, p_allow_zero boolean)
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

-- ---------------------------------------------------------------------------
-- authdb_require_interval(p_value, p_name, p_allow_zero): AU009 unless
-- authdb_interval_is_valid(p_value, p_allow_zero), with a message that names
-- argument p_name and says which rule p_value breaks.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_require_interval(p_value interval, p_name text, p_allow_zero boolean)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path FROM CURRENT
AS $function$
BEGIN
    IF authdb_interval_is_valid(p_value, p_allow_zero) THEN
        RETURN;
    END IF;

    IF p_value IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = pg_catalog.format('%s: must not be NULL', p_name),
            HINT    = 'Omit the argument to use its default.';
    END IF;

    IF NOT pg_catalog.isfinite(p_value)
       OR pg_catalog.abs(pg_catalog.date_part('year'::text, p_value)) > 1000::double precision
       OR pg_catalog.abs(pg_catalog.date_part('day'::text, p_value)) > 366000::double precision
       OR pg_catalog.abs(pg_catalog.date_part('hour'::text, p_value)) > 8784000::double precision THEN
        RAISE EXCEPTION USING
            ERRCODE = 'AU009',
            MESSAGE = pg_catalog.format('%s: must be a finite interval of at most 1000 years (in each of its year, day and hour parts), got %s', p_name, p_value);
    END IF;

    RAISE EXCEPTION USING
        ERRCODE = 'AU009',
        MESSAGE = pg_catalog.format('%s: must be a %s interval, got %s', p_name,
                                    CASE WHEN p_allow_zero THEN 'zero or positive' ELSE 'positive' END, p_value);
END;
$function$;

COMMENT ON FUNCTION authdb_require_interval(interval, text, boolean) IS
    'Private. Raises AU009 (naming argument p_name) unless p_value is a finite interval that is positive, or zero when p_allow_zero (authdb_interval_is_valid).';
REVOKE EXECUTE ON FUNCTION authdb_require_interval(interval, text, boolean) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Random secrets (verification tokens, registration secrets): 43 characters
-- of base64url (no padding) encoding 32 bytes, two version-4 UUIDs from
-- gen_random_uuid(), whose 244 random bits come from the server's
-- cryptographically strong random source.  32 bytes encode to 44 base64
-- characters, the last one "=" padding; encode() wraps lines only after 76
-- characters.  Written out where it is used, not as a helper: a helper
-- without arguments is the one call no argument type can protect, since a
-- function of the same name whose arguments all have defaults (f(int
-- DEFAULT 0)), should one ever be created in the target schema, makes the
-- call "not unique".
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- Issuing a token (register_user_with_token, resend_email_verification) runs
-- while holding the user's row lock (or having inserted the user in this
-- transaction), after the arguments are validated:
--
--   1. The bound: if the user has 5 usable tokens (unconsumed, unrevoked,
--      expires_at after clock_timestamp()), AU013, naming when the oldest
--      of them expires.  Nothing is revoked to make room: a token belongs
--      to whoever holds the mail, and somebody without the mailbox could
--      otherwise push the owner's link (and her registration) out by
--      registering 5 times.  The owner still holds every link sent (each
--      confirms her address; without its registration secret she chooses
--      the password), and a slot frees itself when the oldest expires.
--   2. One statement:
--        WITH trimmed AS (DELETE ... the user's ended tokens -- expired,
--                         consumed or revoked -- beyond the newest 5 ...)
--        INSERT INTO email_verification_tokens ... (the new token: its
--                         SHA-256, the registration secret hash and the
--                         details it carries)
--      so a user never has more than 10 stored tokens (5 usable, the 5
--      most recently ended kept for their AU011/AU012 answers until the
--      purge); a data-modifying WITH runs to completion whether or not it
--      is read.  SKIP LOCKED leaves the rows a running purge is deleting to
--      it, so the two never wait on each other.
-- The plaintext token is returned, never stored.
-- ---------------------------------------------------------------------------

-- ===========================================================================
-- API
-- ===========================================================================

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
CREATE FUNCTION register_user_with_token(
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

    -- Throttle (same statement as resend_email_verification's) on the most
    -- recently issued token, whatever its state.  Issue order is id order:
    -- ids come from an identity sequence and issues for one user are
    -- serialised by the row lock.  A new user has no token yet.
    IF outcome = 'reissued' AND p_min_resend_interval > interval '0' THEN
        SELECT t.created_at
          INTO v_last_issued_at
          FROM email_verification_tokens AS t
         WHERE t.user_id = register_user_with_token.user_id
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

    -- 4. Issue the token (see "Issuing a token" above); it carries this
    --    request's details and the hash of its registration secret.  A new
    --    user has no token: nothing to count or trim.
    IF outcome = 'reissued' THEN
        SELECT pg_catalog.count(*), pg_catalog.min(t.expires_at)
          INTO v_usable, v_oldest_expiry
          FROM email_verification_tokens AS t
         WHERE t.user_id = register_user_with_token.user_id
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
    END IF;

    registration_secret := pg_catalog.translate(pg_catalog.encode(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) OPERATOR(pg_catalog.||) pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'base64'::text), '+/='::text, '-_'::text);
    token               := pg_catalog.translate(pg_catalog.encode(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()) OPERATOR(pg_catalog.||) pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'base64'::text), '+/='::text, '-_'::text);
    expires_at          := pg_catalog.now() + p_token_ttl;
    email               := v_email;

    WITH trimmed AS (
        DELETE FROM email_verification_tokens AS t
         WHERE outcome = 'reissued'
           AND t.id IN (SELECT o.id
                          FROM email_verification_tokens AS o
                         WHERE o.user_id = register_user_with_token.user_id
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
            pg_catalog.sha256(pg_catalog.convert_to(registration_secret, 'UTF8'::pg_catalog.name)),
            p_password_hash, v_phone, p_role, register_user_with_token.expires_at);

    RETURN NEXT;
END;
$function$;

COMMENT ON FUNCTION register_user_with_token(text, text, text, text, interval, interval) IS
    'Registers p_email (normalised) and issues an e-mail verification token and a registration secret, each returned once in plaintext: the token for the mail, the secret for the registering client only. outcome = ''created'' for a new user, ''reissued'' for an existing unconfirmed user (earlier tokens stay valid, never revoked; at most 5 usable per user); email = the address as stored, to mail the token to. The password hash and phone take effect only when the token is verified with the secret. Errors: AU001 email confirmed, AU002 phone confirmed by another user, AU003/AU004 role, AU005 email, AU006 phone, AU008 too soon, AU009 other argument, AU013 5 usable tokens outstanding. SECURITY DEFINER; grant EXECUTE to the application role.';
REVOKE EXECUTE ON FUNCTION register_user_with_token(text, text, text, text, interval, interval) FROM PUBLIC;

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
CREATE FUNCTION resend_email_verification(
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
CREATE FUNCTION preview_email_verification(
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
CREATE FUNCTION verify_email(
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
CREATE FUNCTION sign_in_credentials(p_email text)
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
CREATE FUNCTION purge_expired_email_verification_tokens(p_older_than interval DEFAULT '7 days')
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
