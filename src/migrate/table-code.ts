import type { ClientBase } from 'pg';
import { TRUSTED_ROLES_CTE } from './trusted-roles.js';

/**
 * What runs code when one of the schema's tables is used, other than the
 * table itself: a trigger (its function and its WHEN clause), a rule, a
 * row-level security policy (its expressions), a column default, a
 * constraint, an index (its expressions and operator classes) or a column
 * type — found in the schema's relations, `authdb_migrations` included.
 */
export interface TableCodeFinding {
  /** `foreign-code`: it uses an object another role owns; `rule`: authdb creates no rules; `trigger-privilege`: another role may create triggers. */
  readonly kind: 'foreign-code' | 'rule' | 'trigger-privilege';
  /** `trigger audit on table auth.users`, as `pg_describe_object` says it. */
  readonly object: string;
  /** The objects of other roles it uses: `function mallory.f() (owner mallory)`; the roles, for `trigger-privilege`. */
  readonly uses: readonly string[];
  /** The roles at fault: the owners of what it uses, the grantees of TRIGGER. */
  readonly roles: readonly string[];
  /** The table, schema-qualified and quoted. */
  readonly table: string;
  /** The table's owner, quoted. */
  readonly tableOwner: string;
  /** The table's owner is the install's owner, a superuser or trusted `pg_database_owner`. */
  readonly tableTrusted: boolean;
  /** The statement that removes it, run by the table's owner (null for a column type). */
  readonly drop: string | null;
}

/**
 * Every trigger, rule, policy, default, constraint, index and column type on
 * a relation of `schema` that runs code another role owns; every rule (a
 * rule's actions run with the table owner's rights whenever the table is
 * used, and authdb creates none); and every grant of TRIGGER to another role.
 * Trusted: the install's owner (`owner`, default `current_user`), superusers
 * and `pg_database_owner` when the database's owner is one of those.
 */
export async function findTableCode(client: ClientBase, schema: string, owner: string | undefined): Promise<TableCodeFinding[]> {
  const { rows } = await client.query<TableCodeFinding>(TABLE_CODE_SQL, [schema, owner ?? null]);
  return rows;
}

// Owners of the kinds of object an expression, a trigger or an index can depend on.
const OWNER_OF = `CASE d.refclassid
      WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (SELECT x.proowner FROM pg_catalog.pg_proc AS x WHERE x.oid = d.refobjid)
      WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN (SELECT x.oprowner FROM pg_catalog.pg_operator AS x WHERE x.oid = d.refobjid)
      WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (SELECT x.typowner FROM pg_catalog.pg_type AS x WHERE x.oid = d.refobjid)
      WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN (SELECT x.relowner FROM pg_catalog.pg_class AS x WHERE x.oid = d.refobjid)
      WHEN 'pg_catalog.pg_collation'::pg_catalog.regclass THEN (SELECT x.collowner FROM pg_catalog.pg_collation AS x WHERE x.oid = d.refobjid)
      WHEN 'pg_catalog.pg_opclass'::pg_catalog.regclass THEN (SELECT x.opcowner FROM pg_catalog.pg_opclass AS x WHERE x.oid = d.refobjid)
      WHEN 'pg_catalog.pg_opfamily'::pg_catalog.regclass THEN (SELECT x.opfowner FROM pg_catalog.pg_opfamily AS x WHERE x.oid = d.refobjid)
    END`;

export const TABLE_CODE_SQL = `
WITH ${TRUSTED_ROLES_CTE}, rels AS (
  SELECT c.oid, c.relowner, c.relacl, pg_catalog.format('%I.%I', n.nspname, c.relname) AS qualified
    FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
   WHERE n.nspname = $1::pg_catalog.text AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
), parts AS (
  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS classid, r.oid AS objid, r.oid AS relid, NULL::pg_catalog.text AS drop, false AS rule FROM rels AS r
  UNION ALL
  SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, ad.oid, r.oid, pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT;', r.qualified, a.attname), false
    FROM pg_catalog.pg_attrdef AS ad JOIN rels AS r ON r.oid = ad.adrelid
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  UNION ALL
  SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid, r.oid, pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I;', r.qualified, k.conname), false
    FROM pg_catalog.pg_constraint AS k JOIN rels AS r ON r.oid = k.conrelid
  UNION ALL
  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid, r.oid, pg_catalog.format('DROP INDEX %s;', i.indexrelid::pg_catalog.regclass::pg_catalog.text), false
    FROM pg_catalog.pg_index AS i JOIN rels AS r ON r.oid = i.indrelid
  UNION ALL
  SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, t.oid, r.oid, pg_catalog.format('DROP TRIGGER %I ON %s;', t.tgname, r.qualified), false
    FROM pg_catalog.pg_trigger AS t JOIN rels AS r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, w.oid, r.oid, pg_catalog.format('DROP RULE %I ON %s;', w.rulename, r.qualified), w.rulename <> '_RETURN'
    FROM pg_catalog.pg_rewrite AS w JOIN rels AS r ON r.oid = w.ev_class
  UNION ALL
  SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass, p.oid, r.oid, pg_catalog.format('DROP POLICY %I ON %s;', p.polname, r.qualified), false
    FROM pg_catalog.pg_policy AS p JOIN rels AS r ON r.oid = p.polrelid
), used AS (
  SELECT parts.classid, parts.objid, d.refclassid, d.refobjid, ${OWNER_OF} AS owner
    FROM parts JOIN pg_catalog.pg_depend AS d ON d.classid = parts.classid AND d.objid = parts.objid
   WHERE NOT (d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = parts.relid)
), findings AS (
  SELECT CASE WHEN parts.rule THEN 'rule' ELSE 'foreign-code' END AS kind, parts.classid, parts.objid, parts.relid, parts.drop,
         ARRAY(SELECT pg_catalog.pg_describe_object(u.refclassid, u.refobjid, 0) || ' (owner ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(u.owner)) || ')'
                 FROM used AS u WHERE u.classid = parts.classid AND u.objid = parts.objid AND u.owner NOT IN (SELECT oid FROM trusted) ORDER BY 1) AS uses,
         ARRAY(SELECT DISTINCT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(u.owner))
                 FROM used AS u WHERE u.classid = parts.classid AND u.objid = parts.objid AND u.owner NOT IN (SELECT oid FROM trusted) ORDER BY 1) AS roles
    FROM parts
)
SELECT f.kind, pg_catalog.pg_describe_object(f.classid, f.objid, 0) AS object, f.uses,
       CASE WHEN f.kind = 'rule' AND pg_catalog.cardinality(f.roles) = 0 THEN ARRAY[pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.relowner))] ELSE f.roles END AS roles,
       r.qualified AS "table", pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.relowner)) AS "tableOwner",
       r.relowner IN (SELECT oid FROM trusted) AS "tableTrusted", f.drop
  FROM findings AS f JOIN rels AS r ON r.oid = f.relid
 WHERE f.kind = 'rule' OR pg_catalog.cardinality(f.uses) > 0
UNION ALL
SELECT 'trigger-privilege', 'table ' || r.qualified, g.roles, g.roles, r.qualified, pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r.relowner)),
       r.relowner IN (SELECT oid FROM trusted), pg_catalog.format('REVOKE TRIGGER ON TABLE %s FROM %s;', r.qualified, pg_catalog.array_to_string(g.roles, ', '))
  FROM rels AS r,
       LATERAL (SELECT ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
                               FROM pg_catalog.aclexplode(coalesce(r.relacl, pg_catalog.acldefault('r'::pg_catalog."char", r.relowner))) AS a
                              WHERE a.privilege_type = 'TRIGGER' AND a.grantee <> r.relowner AND a.grantee NOT IN (SELECT oid FROM trusted)
                              ORDER BY 1) AS roles) AS g
 WHERE pg_catalog.cardinality(g.roles) > 0
 ORDER BY 1, 2`;
