-- authdb migration 20261125000003_email_verification_tokens (up)
--
-- Creates email_verification_tokens: the single-use tokens mailed to a user to
-- prove they own their e-mail address.  Each row is also one pending
-- registration request.
--
-- * Only a SHA-256 hash of each token is stored; the plaintext is returned
--   once by the issuing function and never written anywhere.
-- * A token issued by register_user_with_token also carries the registration
--   details of that request (password_hash, phone, role) and the SHA-256 of
--   the request's registration secret: a random value returned to the
--   registering client only (a cookie, say), never mailed.  verify_email
--   applies the carried password hash and phone only when it is given that
--   secret, so somebody who registers an address they do not own
--   ("pre-hijacking") can never get their password or phone onto the real
--   owner's account: the owner holds the mailed token, not the squatter's
--   secret.  Without the secret, verification confirms the address and sets
--   only a password chosen by whoever holds the token.
-- * Several tokens of one user may be outstanding (one per pending
--   registration): a later registration never revokes an earlier one's
--   token.  The issuing functions keep at most 5 usable (unexpired,
--   unconsumed, unrevoked) tokens per user by refusing a sixth (AU013),
--   never by revoking one, and delete ended tokens beyond the 5 most recent,
--   so at most 10 are stored per user; verifying one revokes all the others.
--
-- Run by the authdb engine in one transaction with
-- search_path = <target schema>, pg_temp: objects are schema-unqualified.

CREATE TABLE email_verification_tokens (
    id                       bigint      GENERATED ALWAYS AS IDENTITY,
    user_id                  uuid        NOT NULL,
    token_hash               bytea       NOT NULL,
    -- SHA-256 of the registration secret; NULL for a token that carries no
    -- credentials (resend_email_verification without the secret).
    registration_secret_hash bytea,
    -- Registration details carried by the token (see header).
    password_hash            text,
    phone                    text,
    role                     text        NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    expires_at               timestamptz NOT NULL,
    consumed_at              timestamptz,
    revoked_at               timestamptz,

    CONSTRAINT email_verification_tokens_pkey PRIMARY KEY (id),

    -- Deleting a user deletes its tokens.
    CONSTRAINT email_verification_tokens_user_id_fkey
        FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,

    -- verify_email looks tokens up by hash; the unique index serves that.
    CONSTRAINT email_verification_tokens_token_hash_key UNIQUE (token_hash),

    -- sha256(convert_to(token, 'UTF8')) is always 32 bytes; so is the hash
    -- of the registration secret.
    CONSTRAINT email_verification_tokens_token_hash_sha256 CHECK (octet_length(token_hash) = 32),
    CONSTRAINT email_verification_tokens_registration_secret_hash_sha256 CHECK (octet_length(registration_secret_hash) = 32),

    -- Credentials travel only with a registration secret: a token that
    -- anybody holding the mailbox could use carries none.
    CONSTRAINT email_verification_tokens_credentials_need_secret
        CHECK (registration_secret_hash IS NOT NULL OR (password_hash IS NULL AND phone IS NULL)),

    -- Same rules as the corresponding users columns.
    CONSTRAINT email_verification_tokens_phone_e164 CHECK (phone ~ '^\+[0-9]{8,15}$'),
    CONSTRAINT email_verification_tokens_password_hash_not_empty CHECK (password_hash <> ''),

    -- No index on role: see the note on users.role.
    CONSTRAINT email_verification_tokens_role_fkey FOREIGN KEY (role) REFERENCES roles (name),

    CONSTRAINT email_verification_tokens_expires_after_creation CHECK (expires_at > created_at),
    -- A token ends at most once: consumed (verified) or revoked (superseded),
    -- never both, and never before it was created.
    CONSTRAINT email_verification_tokens_consumed_or_revoked CHECK (consumed_at IS NULL OR revoked_at IS NULL),
    CONSTRAINT email_verification_tokens_consumed_after_creation CHECK (consumed_at >= created_at),
    CONSTRAINT email_verification_tokens_revoked_after_creation CHECK (revoked_at >= created_at)
);

-- (user_id, id): the user's tokens in issue order.  Serves the
-- ON DELETE CASCADE from users, "latest token of this user" (resend
-- throttle), the usable-token bound, the trim of ended tokens, the search for a registration by
-- its secret (resend_email_verification), "revoke the user's other tokens"
-- (verify_email) and the "user has no token left" test of the purge.
CREATE INDEX email_verification_tokens_user_id_idx
    ON email_verification_tokens (user_id, id);

-- The moment a token stopped being usable: the earliest of expiry,
-- consumption and revocation (least() ignores NULLs; expires_at is never
-- NULL).  purge_expired_email_verification_tokens deletes by a range on this
-- expression.
CREATE INDEX email_verification_tokens_ended_at_idx
    ON email_verification_tokens ((least(expires_at, consumed_at, revoked_at)));

COMMENT ON TABLE email_verification_tokens IS
    'Single-use e-mail verification tokens (SHA-256 hashes only), one per pending registration request, with the details that request carries. At most 5 usable (unexpired, unconsumed, unrevoked) and 10 stored tokens per user.';
COMMENT ON COLUMN email_verification_tokens.token_hash IS
    'sha256(convert_to(token, ''UTF8'')). The plaintext token is returned once at issue time and never stored.';
COMMENT ON COLUMN email_verification_tokens.registration_secret_hash IS
    'sha256(convert_to(registration_secret, ''UTF8'')) of the request that issued the token; NULL for a token that carries no credentials. The secret is returned once to the registering client and never stored.';
COMMENT ON COLUMN email_verification_tokens.password_hash IS
    'Password hash requested with this token; applied to users.password_hash when the token is verified with the registration secret (NULL = passwordless).';
COMMENT ON COLUMN email_verification_tokens.phone IS
    'Phone number (E.164) requested with this token; applied to users.phone when the token is verified with the registration secret.';
COMMENT ON COLUMN email_verification_tokens.role IS
    'Role requested with this token; applied to users.role when the token is verified. Self-assignability is checked at issue and again at verification.';
COMMENT ON COLUMN email_verification_tokens.expires_at IS
    'The token cannot be verified at or after this instant (compared with clock_timestamp(), the time of the check).';
COMMENT ON COLUMN email_verification_tokens.consumed_at IS
    'When the token was successfully verified. A consumed token can never be used again.';
COMMENT ON COLUMN email_verification_tokens.revoked_at IS
    'When the token was revoked: another token of the user was verified, or a resend with the same registration secret superseded it.';
