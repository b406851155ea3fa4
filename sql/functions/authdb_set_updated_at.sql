-- ---------------------------------------------------------------------------
-- Shared trigger function: updated_at is maintained by the database, so it is
-- correct no matter which client or tool performs the UPDATE.  It uses now()
-- (transaction start time), the same clock as the created_at defaults.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION authdb_set_updated_at()
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
