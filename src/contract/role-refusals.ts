import type { ClientBase } from 'pg';
import { TRACKING_TABLE } from '../migrate/tracking-table.js';

/**
 * Predefined roles whose members reach data or the server's files past every
 * grant: `pg_read_all_data` and `pg_write_all_data` read and write every
 * table (`users` included); `pg_read_server_files`, `pg_write_server_files`
 * and `pg_execute_server_program` read the data directory, overwrite it or
 * run programs as the server's OS user. An application role needs none.
 */
export const DATA_ROLES: readonly string[] = ['pg_read_all_data', 'pg_write_all_data', 'pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program'];

/** Why a role must not hold the API: it can reach authdb's tables (or the server) without the functions. */
export interface RoleRefusal {
  /** What the role is or is a member of, and what that gives it, in one clause. */
  readonly reason: string;
  /** The statement (run by a superuser) that removes it. */
  readonly fix: string;
}

interface RefusalRow {
  readonly kind: 'superuser' | 'replication' | 'createrole' | 'owner' | 'member' | 'table';
  /** For `member`: the role it is a member of, and the membership that leads there (`GRANT first TO role`); for `table`: the table. */
  readonly ancestor: string | null;
  readonly ancestorKind: 'owner' | 'superuser' | 'data' | null;
  readonly first: string | null;
}

/**
 * Every reason `role` (which must exist) may not be an application role:
 * a superuser, REPLICATION (a replication connection copies the
 * data directory), CREATEROLE on PostgreSQL ≤ 15 (where it can grant
 * itself any non-superuser role), the install's owner itself (owner of
 * `schema`'s `authdb_migrations`, else the connected role), or a member —
 * directly or through other roles, inheriting or not (`SET ROLE` works
 * either way) — of the install's owner, of a superuser or of a {@link DATA_ROLES} role;
 * otherwise, any privilege on one of the install owner's tables in `schema`.
 */
export async function findRoleRefusals(client: ClientBase, role: string, schema: string): Promise<RoleRefusal[]> {
  const { rows } = await client.query<RefusalRow>(REFUSALS_SQL, [role, schema, DATA_ROLES]);
  const q = (name: string): string => client.escapeIdentifier(name);
  return rows.map((row): RoleRefusal => {
    switch (row.kind) {
      case 'superuser':
        return { reason: 'it is a superuser (it reads and writes every table, users and tokens included)', fix: `ALTER ROLE ${q(role)} NOSUPERUSER;` };
      case 'replication':
        return { reason: 'it has REPLICATION, with which a replication connection copies the data directory (BASE_BACKUP), users and password hashes included', fix: `ALTER ROLE ${q(role)} NOREPLICATION;` };
      case 'table':
        return {
          reason: `it holds a privilege on the table ${q(schema)}.${q(row.ancestor ?? '?')} (directly, through PUBLIC or through a role it is a member of), so it reaches the data without the functions`,
          fix: `REVOKE ALL ON TABLE ${q(schema)}.${q(row.ancestor ?? '?')} FROM ${q(role)}; (and from PUBLIC or the role it holds it through)`,
        };
      case 'createrole':
        return { reason: 'it has CREATEROLE, with which it can grant itself pg_read_all_data or any other non-superuser role (PostgreSQL ≤ 15)', fix: `ALTER ROLE ${q(role)} NOCREATEROLE;` };
      case 'owner':
        return { reason: 'it is the install owner, which owns every table', fix: 'create a dedicated login role for the application (CREATE ROLE my_app LOGIN …)' };
      default: {
        const ancestor = row.ancestor ?? '?';
        const what =
          row.ancestorKind === 'owner'
            ? `the install owner "${ancestor}", which owns every table (it can read users and update roles)`
            : row.ancestorKind === 'superuser'
              ? `the superuser "${ancestor}" (SET ROLE makes it a superuser)`
              : `"${ancestor}", which reads or writes every table or the server's files`;
        const through = row.first !== null && row.first !== ancestor ? ` through "${row.first}"` : '';
        return { reason: `it is a member of ${what}${through}`, fix: `REVOKE ${q(row.first ?? ancestor)} FROM ${q(role)};` };
      }
    }
  });
}

const REFUSALS_SQL = `
WITH RECURSIVE target AS (
  SELECT r.oid, r.rolsuper, r.rolreplication, r.rolcreaterole FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name
), owner AS (
  SELECT coalesce((SELECT c.relowner FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
                    WHERE n.nspname OPERATOR(pg_catalog.=) $2::pg_catalog.name AND c.relname OPERATOR(pg_catalog.=) '${TRACKING_TABLE}'::pg_catalog.name AND c.relkind OPERATOR(pg_catalog.=) 'r'),
                  (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)) AS oid
), up (oid, first) AS (
  SELECT m.roleid, m.roleid FROM pg_catalog.pg_auth_members AS m WHERE m.member OPERATOR(pg_catalog.=) (SELECT oid FROM target)
  UNION
  SELECT m.roleid, up.first FROM pg_catalog.pg_auth_members AS m JOIN up ON m.member OPERATOR(pg_catalog.=) up.oid
), reached AS (
  SELECT DISTINCT ON (up.oid) up.oid, up.first, r.rolname, r.rolsuper FROM up JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) up.oid
   ORDER BY up.oid, up.first
)
SELECT 'superuser' AS kind, NULL AS ancestor, NULL AS "ancestorKind", NULL AS first FROM target WHERE target.rolsuper
UNION ALL
SELECT 'replication', NULL, NULL, NULL FROM target WHERE target.rolreplication AND NOT target.rolsuper
UNION ALL
SELECT 'createrole', NULL, NULL, NULL FROM target
 WHERE target.rolcreaterole AND NOT target.rolsuper AND pg_catalog.current_setting('server_version_num')::pg_catalog.int4 OPERATOR(pg_catalog.<) 160000
UNION ALL
SELECT 'owner', NULL, NULL, NULL FROM target WHERE target.oid OPERATOR(pg_catalog.=) (SELECT oid FROM owner)
UNION ALL
SELECT 'member', reached.rolname::pg_catalog.text,
       CASE WHEN reached.oid OPERATOR(pg_catalog.=) (SELECT oid FROM owner) THEN 'owner' WHEN reached.rolsuper THEN 'superuser' ELSE 'data' END,
       (SELECT r.rolname::pg_catalog.text FROM pg_catalog.pg_roles AS r WHERE r.oid OPERATOR(pg_catalog.=) reached.first)
  FROM reached
 WHERE reached.oid OPERATOR(pg_catalog.=) (SELECT oid FROM owner) OR reached.rolsuper OR reached.rolname OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.name[])
UNION ALL
SELECT 'table', c.relname::pg_catalog.text, NULL, NULL
  FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace, target
 WHERE n.nspname OPERATOR(pg_catalog.=) $2::pg_catalog.name AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::pg_catalog."char"[])
   AND c.relowner OPERATOR(pg_catalog.=) (SELECT oid FROM owner)
   AND NOT target.rolsuper AND target.oid OPERATOR(pg_catalog.<>) (SELECT oid FROM owner)
   AND NOT EXISTS (SELECT FROM reached WHERE reached.oid OPERATOR(pg_catalog.=) (SELECT oid FROM owner) OR reached.rolsuper OR reached.rolname OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.name[]))
   AND (pg_catalog.has_any_column_privilege(target.oid, c.oid, 'SELECT, INSERT, UPDATE, REFERENCES')
        OR pg_catalog.has_table_privilege(target.oid, c.oid, 'DELETE, TRUNCATE, TRIGGER'))
 ORDER BY 1, 2`;
