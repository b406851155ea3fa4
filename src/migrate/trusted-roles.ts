/**
 * The CTEs `me` (the install's owner: `$2`, else `current_user`) and
 * `trusted` (its OID, every superuser's, and `pg_database_owner`'s when the
 * database's owner is one of those), qualified throughout: a query that
 * starts `WITH ${TRUSTED_ROLES_CTE}, …` may run before anything else in a session.
 */
export const TRUSTED_ROLES_CTE = `me AS (
  SELECT r.oid, r.rolname FROM pg_catalog.pg_roles AS r WHERE r.rolname = coalesce($2::pg_catalog.text, CURRENT_USER::pg_catalog.text)
), trusted AS (
  SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolsuper OR r.oid = (SELECT oid FROM me)
  UNION ALL
  SELECT r.oid FROM pg_catalog.pg_roles AS r
   WHERE r.rolname = 'pg_database_owner'
     AND EXISTS (SELECT FROM pg_catalog.pg_database AS d JOIN pg_catalog.pg_roles AS o ON o.oid = d.datdba
                  WHERE d.datname = pg_catalog.current_database() AND (o.rolsuper OR o.oid = (SELECT oid FROM me)))
)`;
