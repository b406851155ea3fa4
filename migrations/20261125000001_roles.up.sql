-- authdb migration 20261125000001_roles (up)
--
-- Creates the foundation the other authdb migrations build on:
--   * authdb_set_updated_at(), the trigger function that keeps every
--     "updated_at" column current;
--   * the roles table, seeded with the two built-in roles.
--
-- How this file is run: the authdb migration engine executes it as a single
-- multi-statement query inside its own transaction, after
--   SET LOCAL search_path TO <target schema>, pg_temp
-- so every object below is created schema-unqualified, in the target schema.
-- Two schemas of one database can therefore hold independent installs.

-- authdb needs no extension: ids and tokens come from core
-- gen_random_uuid() and sha256() (PostgreSQL 13+).

-- authdb needs a UTF8 database: the canonical form of e-mail addresses
-- (migration 20261125000002_users) uses pg_catalog.normalize(), which works
-- only there.  Refuse any other encoding before anything is created.
DO $check_encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8'::text THEN
        RAISE EXCEPTION USING
            ERRCODE = '0A000',  -- feature_not_supported
            MESSAGE = pg_catalog.format('authdb needs a UTF8 database; database %I has encoding %s',
                                        pg_catalog.current_database(), pg_catalog.getdatabaseencoding()),
            DETAIL  = 'The canonical form of e-mail addresses uses Unicode normalization (normalize()), which PostgreSQL supports only in UTF8 databases.',
            HINT    = 'Create the database with ENCODING ''UTF8'' TEMPLATE template0 and migrate that one.';
    END IF;
END
$check_encoding$;

-- ---------------------------------------------------------------------------
-- Shared trigger function: updated_at is maintained by the database, so it is
-- correct no matter which client or tool performs the UPDATE.  It uses now()
-- (transaction start time), the same clock as the created_at defaults.
-- ---------------------------------------------------------------------------
CREATE FUNCTION authdb_set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $function$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END;
$function$;

COMMENT ON FUNCTION authdb_set_updated_at() IS
    'BEFORE UPDATE row trigger function: sets NEW.updated_at to now(). Shared by all authdb tables that have an updated_at column.';

-- A trigger function cannot be called directly; revoking EXECUTE only keeps
-- PUBLIC's privilege list empty.  Triggers fire regardless of this privilege.
REVOKE EXECUTE ON FUNCTION authdb_set_updated_at() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- roles: the roles a user can hold.  Roles are data: adding a role is an
-- INSERT, not a code change.  self_assignable says whether a user may pick
-- the role at self-registration (register_user_with_token checks it).
-- ---------------------------------------------------------------------------
CREATE TABLE roles (
    name            text        NOT NULL,
    description     text,
    self_assignable boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT roles_pkey PRIMARY KEY (name),
    -- Role names are identifiers used by application code: lower-case, no
    -- surrounding blanks, so 'Admin ' can never sit next to 'admin'.
    CONSTRAINT roles_name_format CHECK (name ~ '^[a-z][a-z0-9_-]*$' AND char_length(name) <= 63)
);

CREATE TRIGGER roles_set_updated_at
    BEFORE UPDATE ON roles
    FOR EACH ROW
    EXECUTE FUNCTION authdb_set_updated_at();

COMMENT ON TABLE roles IS
    'Roles a user can hold. Roles are data: add a row to add a role. Referenced by users.role and email_verification_tokens.role.';
COMMENT ON COLUMN roles.name IS
    'Role identifier (lower-case letters, digits, "_" and "-"; starts with a letter; at most 63 characters).';
COMMENT ON COLUMN roles.self_assignable IS
    'true if a user may choose this role when registering (register_user_with_token); false for roles that only an operator grants.';
COMMENT ON COLUMN roles.updated_at IS
    'Maintained by the roles_set_updated_at trigger.';

INSERT INTO roles (name, description, self_assignable) VALUES
    ('user',  'Regular user account; may be chosen at self-registration.', true),
    ('admin', 'Administrator; granted by an operator only, never through self-registration.', false);
