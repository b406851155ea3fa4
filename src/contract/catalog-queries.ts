import type { ClientBase } from 'pg';

/**
 * The catalog queries behind a snapshot. Each reads one kind of object in the
 * schema whose OID is `$1`; OIDs are returned only to join rows in memory and
 * never reach the snapshot. Every query runs with `search_path` set to the
 * target schema alone, so deparsed definitions name its objects unqualified.
 */

/** One explicit or default privilege, as `aclexplode` reports it. */
export interface AclEntry {
  readonly grantee: string;
  readonly privilege: string;
  readonly grantable: boolean;
}

export interface RelationRow {
  readonly oid: string;
  readonly name: string;
  readonly quoted: string;
  readonly kind: string;
  readonly persistence: string;
  readonly rowSecurity: boolean;
  readonly forceRowSecurity: boolean;
  readonly owner: string;
  readonly comment: string | null;
  readonly viewDefinition: string | null;
  readonly partitionKey: string | null;
  readonly partitionBound: string | null;
  readonly parents: string[] | null;
  readonly acl: AclEntry[] | null;
}

export interface ColumnRow {
  readonly relid: string;
  readonly name: string;
  readonly position: number;
  readonly type: string;
  readonly notNull: boolean;
  readonly default: string | null;
  readonly identity: string;
  readonly generated: string;
  readonly collation: string | null;
  readonly comment: string | null;
  readonly acl: AclEntry[] | null;
}

export interface ConstraintRow {
  readonly name: string;
  readonly type: string;
  readonly relid: string;
  readonly typid: string;
  readonly definition: string;
  readonly comment: string | null;
}

export interface IndexRow {
  readonly name: string;
  readonly relid: string;
  readonly definition: string;
  readonly valid: boolean;
  readonly comment: string | null;
}

export interface FunctionRow {
  readonly name: string;
  readonly kind: string;
  readonly argumentTypes: string;
  readonly arguments: string;
  readonly result: string | null;
  readonly language: string;
  readonly volatility: string;
  readonly securityDefiner: boolean;
  readonly strict: boolean;
  readonly leakproof: boolean;
  readonly parallel: string;
  readonly cost: number;
  readonly rows: number;
  readonly config: string[] | null;
  readonly source: string | null;
  readonly sqlBody: string | null;
  readonly owner: string;
  readonly comment: string | null;
  readonly acl: AclEntry[];
}

export interface TriggerRow {
  readonly name: string;
  readonly relid: string;
  readonly definition: string;
  readonly enabled: string;
  readonly comment: string | null;
}

/** A rule other than a view's `_RETURN` (authdb creates none). */
export interface RuleRow {
  readonly name: string;
  readonly relid: string;
  readonly definition: string;
  readonly enabled: string;
  readonly comment: string | null;
}

export interface PolicyRow {
  readonly name: string;
  readonly relid: string;
  readonly command: string;
  readonly permissive: boolean;
  readonly roles: string[];
  readonly using: string | null;
  readonly withCheck: string | null;
  readonly comment: string | null;
}

export interface SequenceRow {
  readonly relid: string;
  readonly type: string;
  readonly start: string;
  readonly increment: string;
  readonly min: string;
  readonly max: string;
  readonly cache: string;
  readonly cycle: boolean;
  readonly ownedBy: string | null;
}

export interface TypeRow {
  readonly oid: string;
  readonly name: string;
  readonly kind: string;
  readonly baseType: string | null;
  readonly notNull: boolean;
  readonly default: string | null;
  readonly labels: string[] | null;
  readonly subtype: string | null;
  readonly owner: string;
  readonly comment: string | null;
  readonly acl: AclEntry[];
}

/** The schema itself: its owner and privileges. */
export interface SchemaRow {
  readonly owner: string;
  /** Owner of the current database, which the predefined role `pg_database_owner` (owner of `public` since PostgreSQL 15) stands for. */
  readonly databaseOwner: string;
  /** Every superuser role: they may do anything in any schema, so their ownership and grants are no drift. */
  readonly superusers: string[];
  readonly acl: AclEntry[];
}

/** Everything the catalog says about one schema, before normalization. */
export interface CatalogRows {
  readonly schema: SchemaRow | undefined;
  readonly relations: RelationRow[];
  readonly columns: ColumnRow[];
  readonly constraints: ConstraintRow[];
  readonly indexes: IndexRow[];
  readonly functions: FunctionRow[];
  readonly triggers: TriggerRow[];
  readonly policies: PolicyRow[];
  readonly rules: RuleRow[];
  readonly sequences: SequenceRow[];
  readonly types: TypeRow[];
}

/** Runs every catalog query for the schema with OID `schemaOid`, one after the other on `client`. */
export async function readCatalog(client: ClientBase, schemaOid: string): Promise<CatalogRows> {
  const read = async <T>(sql: string): Promise<T[]> => (await client.query<T & object>(sql, [schemaOid])).rows;
  return {
    schema: (await read<SchemaRow>(SCHEMA))[0],
    relations: await read<RelationRow>(RELATIONS),
    columns: await read<ColumnRow>(COLUMNS),
    constraints: await read<ConstraintRow>(CONSTRAINTS),
    indexes: await read<IndexRow>(INDEXES),
    functions: await read<FunctionRow>(FUNCTIONS),
    triggers: await read<TriggerRow>(TRIGGERS),
    policies: await read<PolicyRow>(POLICIES),
    rules: await read<RuleRow>(RULES),
    sequences: await read<SequenceRow>(SEQUENCES),
    types: await read<TypeRow>(TYPES),
  };
}

/**
 * `aclexplode` of an ACL, with the default ACL of `kind` standing in for NULL;
 * grantee 0 is PUBLIC. When the owner holds every privilege an owner holds by
 * default, those entries collapse into one `ALL`: the set itself depends on
 * the server version (PostgreSQL 17 added MAINTAIN), the fact does not.
 */
function acl(column: string, kind: string, owner: string): string {
  const actual = `pg_catalog.aclexplode(coalesce(${column}, pg_catalog.acldefault(${kind}, ${owner})))`;
  const ownerDefaults = `(SELECT dflt.privilege_type FROM pg_catalog.aclexplode(pg_catalog.acldefault(${kind}, ${owner})) AS dflt WHERE dflt.grantee = ${owner})`;
  const ownerHasAll = `NOT EXISTS (SELECT FROM ${ownerDefaults} AS owned(privilege_type)
      WHERE NOT EXISTS (SELECT FROM ${actual} AS x WHERE x.grantee = ${owner} AND x.privilege_type = owned.privilege_type))`;
  return `(SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
             'grantee', CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(e.grantee) END,
             'privilege', CASE WHEN e.grantee = ${owner} AND NOT e.is_grantable AND e.privilege_type IN ${ownerDefaults} AND ${ownerHasAll}
                               THEN 'ALL' ELSE e.privilege_type END,
             'grantable', e.is_grantable)), '[]')
            FROM ${actual} AS e)`;
}

/** True when the object belongs to an extension (pgcrypto installed in the target schema, say). */
function extensionMember(catalog: string, oid: string): string {
  return `EXISTS (SELECT 1 FROM pg_depend AS e WHERE e.classid = '${catalog}'::pg_catalog.regclass AND e.objid = ${oid} AND e.deptype = 'e')`;
}

const SCHEMA = `
SELECT pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
       (SELECT pg_catalog.pg_get_userbyid(d.datdba) FROM pg_catalog.pg_database AS d WHERE d.datname = pg_catalog.current_database()) AS "databaseOwner",
       ARRAY(SELECT r.rolname::pg_catalog.text FROM pg_catalog.pg_roles AS r WHERE r.rolsuper ORDER BY 1) AS superusers,
       ${acl('n.nspacl', "'n'::pg_catalog.\"char\"", 'n.nspowner')} AS acl
  FROM pg_catalog.pg_namespace AS n
 WHERE n.oid = $1::oid`;

const RELATIONS = `
SELECT c.oid::text AS oid, c.relname AS name, pg_catalog.quote_ident(c.relname) AS quoted, c.relkind::text AS kind,
       c.relpersistence::text AS persistence, c.relrowsecurity AS "rowSecurity", c.relforcerowsecurity AS "forceRowSecurity",
       pg_catalog.pg_get_userbyid(c.relowner) AS owner, pg_catalog.obj_description(c.oid, 'pg_class'::pg_catalog.name) AS comment,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS "viewDefinition",
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS "partitionKey",
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS "partitionBound",
       (SELECT pg_catalog.array_agg(i.inhparent::pg_catalog.regclass::pg_catalog.text ORDER BY i.inhseqno) FROM pg_inherits AS i WHERE i.inhrelid = c.oid) AS parents,
       CASE WHEN c.relkind <> 'c' THEN ${acl('c.relacl', "CASE WHEN c.relkind = 'S' THEN 's'::\"char\" ELSE 'r'::\"char\" END", 'c.relowner')} END AS acl
  FROM pg_class AS c
 WHERE c.relnamespace = $1::oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
   AND NOT ${extensionMember('pg_class', 'c.oid')}`;

const COLUMNS = `
SELECT a.attrelid::text AS relid, a.attname AS name,
       pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)::int AS position,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS "default", a.attidentity::text AS identity, a.attgenerated::text AS generated,
       CASE WHEN a.attcollation <> t.typcollation THEN (SELECT pg_catalog.quote_ident(k.collname) FROM pg_collation AS k WHERE k.oid = a.attcollation) END AS collation,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment,
       CASE WHEN a.attacl IS NOT NULL THEN ${acl('a.attacl', "'c'::\"char\"", 'c.relowner')} END AS acl
  FROM pg_attribute AS a
  JOIN pg_class AS c ON c.oid = a.attrelid
  JOIN pg_type AS t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = $1::oid AND a.attnum > 0 AND NOT a.attisdropped`;

// NOT NULL constraints (PostgreSQL 18 catalogs them) are left to the columns'
// notNull, and constraint triggers to the triggers, so that one fact is never
// recorded twice and the dump does not depend on the server's major version.
const CONSTRAINTS = `
SELECT k.conname AS name, k.contype::text AS type, k.conrelid::text AS relid, k.contypid::text AS typid,
       pg_catalog.pg_get_constraintdef(k.oid) AS definition, pg_catalog.obj_description(k.oid, 'pg_constraint'::pg_catalog.name) AS comment
  FROM pg_constraint AS k
 WHERE k.connamespace = $1::oid AND k.contype NOT IN ('n', 't')`;

// Indexes that implement a primary key, unique or exclusion constraint are
// described by that constraint.
const INDEXES = `
SELECT ic.relname AS name, i.indrelid::text AS relid, pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       i.indisvalid AS valid, pg_catalog.obj_description(i.indexrelid, 'pg_class'::pg_catalog.name) AS comment
  FROM pg_index AS i
  JOIN pg_class AS ic ON ic.oid = i.indexrelid
 WHERE ic.relnamespace = $1::oid
   AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k
                    WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))`;

const FUNCTIONS = `
SELECT p.proname AS name, p.prokind::text AS kind, pg_catalog.oidvectortypes(p.proargtypes) AS "argumentTypes",
       pg_catalog.pg_get_function_arguments(p.oid) AS arguments, pg_catalog.pg_get_function_result(p.oid) AS result,
       l.lanname AS language, p.provolatile::text AS volatility, p.prosecdef AS "securityDefiner",
       p.proisstrict AS strict, p.proleakproof AS leakproof, p.proparallel::text AS parallel,
       p.procost::float8 AS cost, p.prorows::float8 AS rows, p.proconfig AS config, p.prosrc AS source,
       CASE WHEN p.prosqlbody IS NOT NULL THEN pg_catalog.pg_get_function_sqlbody(p.oid) END AS "sqlBody",
       pg_catalog.pg_get_userbyid(p.proowner) AS owner, pg_catalog.obj_description(p.oid, 'pg_proc'::pg_catalog.name) AS comment,
       ${acl('p.proacl', "'f'::\"char\"", 'p.proowner')} AS acl
  FROM pg_proc AS p
  JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = $1::oid AND NOT ${extensionMember('pg_proc', 'p.oid')}`;

const TRIGGERS = `
SELECT t.tgname AS name, t.tgrelid::text AS relid, pg_catalog.pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS enabled, pg_catalog.obj_description(t.oid, 'pg_trigger'::pg_catalog.name) AS comment
  FROM pg_trigger AS t
  JOIN pg_class AS c ON c.oid = t.tgrelid
 WHERE c.relnamespace = $1::oid AND NOT t.tgisinternal`;

const POLICIES = `
SELECT p.polname AS name, p.polrelid::text AS relid, p.polcmd::text AS command, p.polpermissive AS permissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(r)::text END FROM pg_catalog.unnest(p.polroles) AS r)::text[] AS roles,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS "withCheck",
       pg_catalog.obj_description(p.oid, 'pg_policy'::pg_catalog.name) AS comment
  FROM pg_policy AS p
  JOIN pg_class AS c ON c.oid = p.polrelid
 WHERE c.relnamespace = $1::oid`;

const RULES = `
SELECT w.rulename AS name, w.ev_class::text AS relid, pg_catalog.pg_get_ruledef(w.oid) AS definition,
       w.ev_enabled::text AS enabled, pg_catalog.obj_description(w.oid, 'pg_rewrite'::pg_catalog.name) AS comment
  FROM pg_rewrite AS w
  JOIN pg_class AS c ON c.oid = w.ev_class
 WHERE c.relnamespace = $1::oid AND w.rulename <> '_RETURN'`;

// Bounds as text: int8 limits do not fit a JavaScript number.
const SEQUENCES = `
SELECT s.seqrelid::text AS relid, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
       s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
       s.seqcache::text AS cache, s.seqcycle AS cycle,
       (SELECT d.refobjid::pg_catalog.regclass::pg_catalog.text || '.' || pg_catalog.quote_ident(a.attname)
          FROM pg_depend AS d
          JOIN pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::pg_catalog.regclass AND d.objid = s.seqrelid AND d.refclassid = 'pg_class'::pg_catalog.regclass
           AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
         ORDER BY 1 LIMIT 1) AS "ownedBy"
  FROM pg_sequence AS s
  JOIN pg_class AS c ON c.oid = s.seqrelid
 WHERE c.relnamespace = $1::oid`;

// Enums, domains and ranges; composite types come with the relations, and
// array and multirange types are implied by their element types.
const TYPES = `
SELECT t.oid::text AS oid, t.typname AS name, t.typtype::text AS kind,
       CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS "baseType",
       t.typnotnull AS "notNull", pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS "default",
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum AS e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS labels,
       (SELECT pg_catalog.format_type(r.rngsubtype, NULL) FROM pg_range AS r WHERE r.rngtypid = t.oid) AS subtype,
       pg_catalog.pg_get_userbyid(t.typowner) AS owner, pg_catalog.obj_description(t.oid, 'pg_type'::pg_catalog.name) AS comment,
       ${acl('t.typacl', "'T'::\"char\"", 't.typowner')} AS acl
  FROM pg_type AS t
 WHERE t.typnamespace = $1::oid AND t.typtype IN ('e', 'd', 'r')
   AND NOT ${extensionMember('pg_type', 't.oid')}`;
