import type { ClientBase } from 'pg';

/**
 * Default privileges (`ALTER DEFAULT PRIVILEGES`, `pg_default_acl`) hand every
 * object a role creates to other roles — on Supabase, typically
 * `GRANT ALL ON TABLES/FUNCTIONS TO anon`. authdb's objects must end with
 * exactly the privileges the migrations give them, so after each migration
 * file (in its transaction) the privileges that default ACLs added to the
 * objects it created are taken back.
 *
 * Objects are identified as `<catalog>:<oid>` over the schema, its relations,
 * routines and types; "created" means absent from the set taken before.
 */

/** Every object of `schema` that default privileges apply to, as `<catalog>:<oid>`; empty when the schema does not exist. */
export async function schemaObjectIds(client: ClientBase, schema: string): Promise<ReadonlySet<string>> {
  const { rows } = await client.query<{ id: string }>(`${OBJECTS_SQL} SELECT id FROM objects`, [schema]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Takes back, from every object of `schema` not in `existedBefore`, each
 * privilege a `pg_default_acl` entry of its owner (global or for this schema)
 * granted to another role or PUBLIC beyond PostgreSQL's built-in defaults,
 * and gives the owner back any built-in privilege a global entry took away.
 * Returns the statements it ran.
 */
export async function revokeDefaultPrivileges(client: ClientBase, schema: string, existedBefore: ReadonlySet<string>): Promise<readonly string[]> {
  const { rows } = await client.query<{ statement: string }>(`${OBJECTS_SQL} ${STATEMENTS_SQL}`, [schema, [...existedBefore]]);
  for (const { statement } of rows) await client.query(statement);
  return rows.map((r) => r.statement);
}

/**
 * `objects(id, kind, target, owner, acl, scope)`: `kind` is the `acldefault`
 * code, `deftype` the `pg_default_acl` code, `target` the object as GRANT
 * names it, `scope` the schema OID whose per-schema entries apply (0 for the
 * schema itself: only global entries cover schemas).
 */
export const OBJECTS_SQL = `
WITH ns AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl FROM pg_catalog.pg_namespace AS n WHERE n.nspname = $1::pg_catalog.text
), objects AS (
  SELECT 'pg_namespace:' || ns.oid::pg_catalog.text AS id, 'n'::pg_catalog."char" AS kind, 'n'::pg_catalog."char" AS deftype,
         'SCHEMA ' || pg_catalog.quote_ident(ns.nspname) AS target, ns.nspowner AS owner, ns.nspacl AS acl, 0::pg_catalog.oid AS scope
    FROM ns
  UNION ALL
  SELECT 'pg_class:' || c.oid::pg_catalog.text,
         CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::pg_catalog."char",
         CASE WHEN c.relkind = 'S' THEN 'S' ELSE 'r' END::pg_catalog."char",
         CASE WHEN c.relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname),
         c.relowner, c.relacl, ns.oid
    FROM ns JOIN pg_catalog.pg_class AS c ON c.relnamespace = ns.oid
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'pg_proc:' || p.oid::pg_catalog.text, 'f'::pg_catalog."char", 'f'::pg_catalog."char",
         'ROUTINE ' || pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(p.proname)
           || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')',
         p.proowner, p.proacl, ns.oid
    FROM ns JOIN pg_catalog.pg_proc AS p ON p.pronamespace = ns.oid
   WHERE p.prokind IN ('f', 'p', 'w')
  UNION ALL
  SELECT 'pg_type:' || t.oid::pg_catalog.text, 'T'::pg_catalog."char", 'T'::pg_catalog."char",
         'TYPE ' || pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(t.typname),
         t.typowner, t.typacl, ns.oid
    FROM ns JOIN pg_catalog.pg_type AS t ON t.typnamespace = ns.oid
   WHERE t.typtype IN ('e', 'd', 'r', 'm')
      OR (t.typtype = 'c' AND EXISTS (SELECT FROM pg_catalog.pg_class AS k WHERE k.oid = t.typrelid AND k.relkind = 'c'))
)`;

export const STATEMENTS_SQL = `
, created AS (
  SELECT o.* FROM objects AS o WHERE o.id <> ALL ($2::pg_catalog.text[])
), defaults AS (
  SELECT o.id, o.kind, o.target, o.owner, o.acl, d.defaclnamespace AS scope, e.grantee, e.privilege_type
    FROM created AS o
    JOIN pg_catalog.pg_default_acl AS d
      ON d.defaclrole = o.owner AND d.defaclobjtype = o.deftype AND d.defaclnamespace IN (0, o.scope)
   CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) AS e
), current_acl AS (
  SELECT o.id, e.grantee, e.privilege_type
    FROM created AS o CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(o.acl, pg_catalog.acldefault(o.kind, o.owner))) AS e
), builtin AS (
  SELECT o.id, e.grantee, e.privilege_type
    FROM created AS o CROSS JOIN LATERAL pg_catalog.aclexplode(pg_catalog.acldefault(o.kind, o.owner)) AS e
)
SELECT DISTINCT 'REVOKE ' || x.privilege_type || ' ON ' || x.target || ' FROM '
       || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END AS statement
  FROM defaults AS x
 WHERE x.grantee <> x.owner
   AND NOT EXISTS (SELECT FROM builtin AS b WHERE b.id = x.id AND b.grantee = x.grantee AND b.privilege_type = x.privilege_type)
   AND EXISTS (SELECT FROM current_acl AS a WHERE a.id = x.id AND a.grantee = x.grantee AND a.privilege_type = x.privilege_type)
UNION
SELECT DISTINCT 'GRANT ' || b.privilege_type || ' ON ' || o.target || ' TO ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(o.owner))
  FROM created AS o
  JOIN builtin AS b ON b.id = o.id AND b.grantee = o.owner
 WHERE EXISTS (SELECT FROM pg_catalog.pg_default_acl AS d WHERE d.defaclrole = o.owner AND d.defaclobjtype = o.deftype AND d.defaclnamespace = 0)
   AND NOT EXISTS (SELECT FROM current_acl AS a WHERE a.id = o.id AND a.grantee = o.owner AND a.privilege_type = b.privilege_type)
ORDER BY 1`;
