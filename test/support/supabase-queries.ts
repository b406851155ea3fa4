import pg from 'pg';

/** The rows of one statement, run on a connection of its own as `url`'s role. */
export async function queryAs<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Every privilege a Supabase API role (`anon`, `authenticated`, `service_role`,
 * `authenticator`) or PUBLIC holds on `schema` or on a relation or function in
 * it, as `PRIVILEGE role ON object`, read as `adminUrl`'s role.
 */
export async function apiRolePrivileges(adminUrl: string, schema: string): Promise<string[]> {
  const rows = await queryAs<{ grant: string }>(
    adminUrl,
    `SELECT pg_catalog.format('%s %s ON %s', a.privilege_type, pg_catalog.pg_get_userbyid(a.grantee), o.what) AS grant
       FROM (SELECT c.relname::text AS what, c.relacl AS acl, c.relowner AS owner, 'r' AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
             UNION ALL SELECT p.oid::regprocedure::text, p.proacl, p.proowner, 'f' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
             UNION ALL SELECT 'SCHEMA ' || nspname, nspacl, nspowner, 'n' FROM pg_namespace WHERE nspname = $1) AS o,
            pg_catalog.aclexplode(coalesce(o.acl, pg_catalog.acldefault(o.kind::"char", o.owner))) AS a
      WHERE a.grantee IN (SELECT oid FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role', 'authenticator')) OR a.grantee = 0
      ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.grant);
}
