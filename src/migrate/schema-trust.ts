import type { ClientBase } from 'pg';
import { TRACKING_TABLE } from './tracking-table.js';
import { findTableCode, type TableCodeFinding } from './table-code.js';
import { TRUSTED_ROLES_CTE } from './trusted-roles.js';
import { ownSchemaFix } from './own-schema-fix.js';

/** Stable code of {@link SchemaTrustError}. */
export const SCHEMA_TRUST_ERROR_CODE = 'AUTHDB_SCHEMA_TRUST';

/** What makes a schema untrusted. */
export type SchemaTrustProblemKind =
  /** The schema is owned by a role that is neither the install's owner nor a superuser. */
  | 'schema-owner'
  /** Another role (PUBLIC included) holds CREATE on the schema. */
  | 'schema-create'
  /** `authdb_migrations` is owned by another role. */
  | 'tracking-owner'
  /** Another role may write `authdb_migrations`. */
  | 'tracking-write'
  /** The schema holds objects another role owns (it could replace them, and an overload of an API function makes calls ambiguous). */
  | 'foreign-object'
  /** A trigger, policy, default, constraint, index or column type on one of the schema's tables runs code another role owns. */
  | 'table-code'
  /** A rule on one of the schema's tables (authdb creates none; its actions run with the table owner's rights). */
  | 'table-rule'
  /** Another role may create triggers on one of the schema's tables. */
  | 'table-trigger';

/** One reason to refuse, with the roles at fault and the statement that fixes it. */
export interface SchemaTrustProblem {
  readonly kind: SchemaTrustProblemKind;
  readonly schema: string;
  /** The roles at fault (`PUBLIC` for every role). */
  readonly roles: readonly string[];
  /** What is wrong and why it matters, in one sentence. */
  readonly message: string;
  /**
   * What removes the problem, and who does it: a statement the install's
   * owner (or a superuser) runs, or what to ask the role at fault. Never
   * that the install's owner take over or drop what another role owns.
   */
  readonly fix: string;
}

export interface SchemaTrustOptions {
  /** The schema the migrations create their objects in (the functions' `search_path`). */
  readonly schema: string;
  /**
   * The role that owns the install (runs the migrations). Default is the
   * connected role (`current_user`). Read-only commands run by a monitoring
   * role name the install's owner here (`--owner`).
   */
  readonly owner?: string | undefined;
}

/**
 * The schema authdb migrates is not under the install owner's sole control:
 * another role could plant or replace objects that authdb's functions or
 * commands then run with the owner's rights.
 */
export class SchemaTrustError extends Error {
  readonly code = SCHEMA_TRUST_ERROR_CODE;
  readonly problems: readonly SchemaTrustProblem[];

  constructor(problems: readonly SchemaTrustProblem[]) {
    super(
      [
        `refusing to use schema "${problems[0]?.schema ?? '?'}": a role other than the install's owner (the role that runs the migrations) controls it`,
        ...problems.map((p) => `  ${p.message}\n    fix: ${p.fix}`),
        'Apply the fix(es) — each says who runs it — and rerun the command.',
      ].join('\n'),
    );
    this.name = 'SchemaTrustError';
    this.problems = problems;
  }
}

interface TrustRow {
  readonly owner: string | null;
  readonly quotedOwner: string;
  readonly schemaExists: boolean;
  readonly quotedSchema: string;
  readonly schemaOwner: string | null;
  readonly schemaOwnerTrusted: boolean;
  readonly creators: string[];
  readonly trackingOwner: string | null;
  readonly trackingWriters: string[];
  /** `<object description> (owner <role>)` of every object in the schema owned by an untrusted role. */
  readonly foreignObjects: string[];
  readonly foreignOwners: string[];
}

/**
 * One query, qualified throughout (it may run before anything else in a
 * session). Trusted roles: the install's owner, superusers, and
 * `pg_database_owner` (owner of `public` since PostgreSQL 15) when the
 * database's owner is one of the former.
 */
export const TRUST_SQL = `
WITH ${TRUSTED_ROLES_CTE}, ns AS (
  SELECT n.* FROM pg_catalog.pg_namespace AS n WHERE n.nspname = $1::pg_catalog.text
), foreign_objects AS (
  SELECT pg_catalog.pg_describe_object(o.classid, o.objid, 0) AS description, pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(o.owner)) AS owner
    FROM (SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass AS classid, p.oid AS objid, p.proowner AS owner
            FROM pg_catalog.pg_proc AS p WHERE p.pronamespace = (SELECT oid FROM ns)
          UNION ALL
          SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, c.relowner
            FROM pg_catalog.pg_class AS c WHERE c.relnamespace = (SELECT oid FROM ns)
          UNION ALL
          SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, t.typowner
            FROM pg_catalog.pg_type AS t WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typrelid = 0 AND t.typelem = 0
          UNION ALL
          SELECT 'pg_catalog.pg_operator'::pg_catalog.regclass, op.oid, op.oprowner
            FROM pg_catalog.pg_operator AS op WHERE op.oprnamespace = (SELECT oid FROM ns)) AS o
   WHERE o.owner NOT IN (SELECT oid FROM trusted)
), tracking AS (
  SELECT c.* FROM pg_catalog.pg_class AS c WHERE c.relnamespace = (SELECT oid FROM ns) AND c.relname = '${TRACKING_TABLE}' AND c.relkind = 'r'
)
SELECT (SELECT rolname FROM me) AS owner, pg_catalog.quote_ident((SELECT rolname FROM me)) AS "quotedOwner",
       EXISTS (SELECT FROM ns) AS "schemaExists",
       pg_catalog.quote_ident($1::pg_catalog.text) AS "quotedSchema",
       (SELECT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(nspowner)) FROM ns) AS "schemaOwner",
       coalesce((SELECT nspowner IN (SELECT oid FROM trusted) FROM ns), true) AS "schemaOwnerTrusted",
       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
               FROM ns, pg_catalog.aclexplode(coalesce(ns.nspacl, pg_catalog.acldefault('n'::pg_catalog."char", ns.nspowner))) AS a
              WHERE a.privilege_type = 'CREATE' AND a.grantee <> ns.nspowner AND a.grantee NOT IN (SELECT oid FROM trusted)
              ORDER BY 1) AS creators,
       (SELECT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(relowner)) FROM tracking WHERE relowner <> (SELECT oid FROM me)) AS "trackingOwner",
       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
               FROM tracking, pg_catalog.aclexplode(coalesce(tracking.relacl, pg_catalog.acldefault('r'::pg_catalog."char", tracking.relowner))) AS a
              WHERE a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
                AND a.grantee <> tracking.relowner AND a.grantee NOT IN (SELECT oid FROM trusted)
              ORDER BY 1) AS "trackingWriters",
       ARRAY(SELECT f.description || ' (owner ' || f.owner || ')' FROM foreign_objects AS f ORDER BY 1) AS "foreignObjects",
       ARRAY(SELECT DISTINCT f.owner FROM foreign_objects AS f ORDER BY 1) AS "foreignOwners"`;

/**
 * Every reason the schema cannot be trusted; empty when it can (or does not
 * exist yet: `migrate up` creates it, owned by the migrating role).
 *
 * Untrusted: the schema is owned by a role other than the install's owner
 * (a superuser owner is fine); any other role, PUBLIC included, may CREATE
 * in it; `authdb_migrations` is owned, or may be written, by another role;
 * a table of the schema carries a rule, or a trigger, policy, default,
 * constraint or index that uses another role's object, or another role may
 * create triggers on it ({@link findTableCode}).
 */
export async function findSchemaTrustProblems(client: ClientBase, options: SchemaTrustOptions): Promise<SchemaTrustProblem[]> {
  const { rows } = await client.query<TrustRow>(TRUST_SQL, [options.schema, options.owner ?? null]);
  const row = rows[0];
  if (!row?.owner) {
    throw new SchemaTrustError([
      { kind: 'schema-owner', schema: options.schema, roles: [options.owner ?? '?'], message: `role "${options.owner ?? '?'}" (--owner) does not exist`, fix: 'pass the role that ran the migrations as --owner' },
    ]);
  }
  if (!row.schemaExists) return [];
  const owner = row.quotedOwner;
  const schema = row.quotedSchema;
  const table = `${schema}.${TRACKING_TABLE}`;
  const problems: SchemaTrustProblem[] = [];
  if (!row.schemaOwnerTrusted && row.schemaOwner !== null) {
    // Another role's schema (Supabase's `auth`, owned by supabase_auth_admin, is the usual one): whatever
    // else is wrong in it is that role's to change, so this is the only problem, and its fix is elsewhere.
    const theirs = row.foreignObjects.length === 0 ? '' : `; it holds ${row.foreignObjects.length} object(s) of its own, such as ${row.foreignObjects.slice(0, 3).join('; ')}`;
    return [
      {
        kind: 'schema-owner',
        schema: options.schema,
        roles: [row.schemaOwner],
        message: `schema ${schema} is owned by role ${row.schemaOwner}, which is neither ${owner} nor a superuser: it can create, replace or drop objects in it${theirs}`,
        fix: `leave schema ${schema} to role ${row.schemaOwner}; ${ownSchemaFix(options.schema, owner)}`,
      },
    ];
  }
  if (row.creators.length > 0) {
    problems.push({
      kind: 'schema-create',
      schema: options.schema,
      roles: row.creators,
      message: `${row.creators.join(', ')} may create objects in schema ${schema}: a function or operator planted there can take the place of one that authdb calls and run with its caller's rights`,
      fix: `REVOKE CREATE ON SCHEMA ${schema} FROM ${row.creators.join(', ')};`,
    });
  }
  if (row.trackingOwner !== null) {
    // Never "ALTER TABLE … OWNER TO": the table would bring along whatever its creator attached to it.
    problems.push({
      kind: 'tracking-owner',
      schema: options.schema,
      roles: [row.trackingOwner],
      message: `table ${table} is owned by role ${row.trackingOwner}, not by ${owner}: its rows decide what \`migrate up\` applies and what \`migrate validate\` and \`schema check\` accept, and whatever its owner attached to it (triggers, rules, defaults) runs when authdb writes it`,
      fix: `if role ${row.trackingOwner} ran the migrations, connect as ${row.trackingOwner} (a DATABASE_URL of another role is the usual cause), or, for a read-only check as another role, name it with --owner ${row.trackingOwner}; otherwise the table is not ${owner}'s install: ${ownSchemaFix(options.schema, owner)}`,
    });
  }
  if (row.trackingWriters.length > 0) {
    problems.push({
      kind: 'tracking-write',
      schema: options.schema,
      roles: row.trackingWriters,
      message: `${row.trackingWriters.join(', ')} may write table ${table}, whose rows decide what \`migrate up\` applies`,
      fix: `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE ${table} FROM ${row.trackingWriters.join(', ')};`,
    });
  }
  if (row.foreignObjects.length > 0) {
    const shown = row.foreignObjects.slice(0, 10).join('; ') + (row.foreignObjects.length > 10 ? `; and ${row.foreignObjects.length - 10} more` : '');
    problems.push({
      kind: 'foreign-object',
      schema: options.schema,
      roles: row.foreignOwners,
      message: `schema ${schema} holds objects owned by ${row.foreignOwners.join(', ')}, which can replace them, and an overload of an authdb function makes its calls ambiguous: ${shown}`,
      fix: `they are ${row.foreignOwners.join(', ')}'s, and authdb does not install beside them: ${ownSchemaFix(options.schema, owner)}`,
    });
  }
  problems.push(...(await findTableCode(client, options.schema, options.owner)).map((finding) => tableCodeProblem(options.schema, owner, finding)));
  return problems;
}

/** A trigger, rule or policy of another role's, or a TRIGGER grant, as a problem whose fix never takes over another role's table. */
function tableCodeProblem(schema: string, owner: string, f: TableCodeFinding): SchemaTrustProblem {
  const roles = [...f.roles];
  if (f.kind === 'trigger-privilege') {
    return {
      kind: 'table-trigger',
      schema,
      roles,
      message: `${roles.join(', ')} may create triggers on table ${f.table}: a trigger's function runs whenever authdb's functions or commands write the table, with their rights`,
      fix: f.tableTrusted ? (f.drop ?? '') : `table ${f.table} is role ${f.tableOwner}'s: ${ownSchemaFix(schema, owner)}`,
    };
  }
  const what =
    f.kind === 'rule'
      ? `${f.object}: authdb creates no rules, and a rule's actions run with the rights of the table's owner whenever the table is used${f.uses.length > 0 ? `; it uses ${f.uses.join(', ')}` : ''}`
      : `${f.object} uses ${f.uses.join(', ')}: that code runs whenever authdb's functions or commands use table ${f.table}, with their rights`;
  const fix = !f.tableTrusted
    ? `table ${f.table} is role ${f.tableOwner}'s (it holds that role's objects): ${ownSchemaFix(schema, owner)}`
    : f.drop !== null
      ? `as ${owner}, after reviewing what it did: ${f.drop}`
      : `as ${owner}, change the column's type to one that ${owner} or a superuser owns, or ${ownSchemaFix(schema, owner)}`;
  return { kind: f.kind === 'rule' ? 'table-rule' : 'table-code', schema, roles, message: what, fix };
}

/**
 * Refuses ({@link SchemaTrustError}, `AUTHDB_SCHEMA_TRUST`) a schema that
 * another role controls; see {@link findSchemaTrustProblems}.
 *
 * @example
 * await assertSchemaTrusted(client, { schema: 'authdb' });
 */
export async function assertSchemaTrusted(client: ClientBase, options: SchemaTrustOptions): Promise<void> {
  const problems = await findSchemaTrustProblems(client, options);
  if (problems.length > 0) throw new SchemaTrustError(problems);
}
