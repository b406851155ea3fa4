import { createHash } from 'node:crypto';
import { TRACKING_TABLE } from '../migrate/tracking-table.js';
import type { AclEntry, CatalogRows, FunctionRow, RelationRow, SchemaRow } from './catalog-queries.js';
import { compareCodeUnits, type Json } from './canonical-json.js';

/** One schema object of a snapshot: field name → value. */
export type SnapshotObject = { readonly [field: string]: Json };

/** Stands for the role that ran the migrations, wherever it owns or is granted something. */
export const OWNER_PLACEHOLDER = '<owner>';
/** Stands for the target schema's name inside definitions (`search_path` settings). */
export const SCHEMA_PLACEHOLDER = '<schema>';
/** Key of the target schema's own entry (its owner and privileges). */
export const SCHEMA_KEY = `schema ${SCHEMA_PLACEHOLDER}`;
/** Predefined role (PostgreSQL 15+) that owns `public` and stands for the database's owner. */
const DATABASE_OWNER_ROLE = 'pg_database_owner';

/** How the target schema's name is spelled in deparsed SQL, and who ran the migrations. */
export interface SchemaNames {
  /** `quote_ident(schema)`. */
  readonly quotedSchema: string;
  /** The reference owner, replaced by {@link OWNER_PLACEHOLDER}. */
  readonly owner: string;
}

/**
 * Turns catalog rows into snapshot objects keyed `<kind> <name>`: OIDs
 * dropped, the target schema and the reference owner replaced by
 * placeholders, lists sorted, function bodies split into lines.
 */
export function buildObjects(rows: CatalogRows, names: SchemaNames): Map<string, SnapshotObject> {
  const objects = new Map<string, SnapshotObject>();
  const add = (key: string, value: SnapshotObject): void => void objects.set(key, value);
  const role = (name: string): string => (name === names.owner ? OWNER_PLACEHOLDER : name);
  const grants = (acl: readonly AclEntry[] | null): Json => grantsByRole(acl ?? [], role);
  const relations = new Map(rows.relations.filter((r) => r.name !== TRACKING_TABLE || r.kind !== 'r').map((r) => [r.oid, r]));
  // Code attached to a table runs when it is used: recorded for authdb_migrations too, whose own shape the engine owns.
  const attachable = new Map(rows.relations.map((r) => [r.oid, r]));
  const typeNames = new Map(rows.types.map((t) => [t.oid, t.name]));
  const sequences = new Map(rows.sequences.map((s) => [s.relid, s]));

  if (rows.schema) add(SCHEMA_KEY, schemaObject(rows.schema, names.owner));
  for (const r of relations.values()) add(relationKey(r), relationObject(r, role, grants, sequences.get(r.oid)));
  for (const c of rows.columns) {
    const rel = relations.get(c.relid);
    if (!rel || rel.kind === 'S') continue;
    add(`column ${rel.name}.${c.name}`, {
      position: c.position,
      type: c.type,
      notNull: c.notNull,
      default: c.generated === '' ? c.default : null,
      ...(c.identity !== '' && { identity: c.identity === 'a' ? 'always' : 'by default' }),
      ...(c.generated !== '' && { generated: { expression: c.default, kind: c.generated === 's' ? 'stored' : 'virtual' } }),
      ...(c.collation !== null && { collation: c.collation }),
      ...(c.acl !== null && { grants: grants(c.acl) }),
      comment: c.comment,
    });
  }
  for (const k of rows.constraints) {
    const owner = relations.get(k.relid)?.name ?? typeNames.get(k.typid);
    if (owner === undefined) continue;
    add(`constraint ${owner}.${k.name}`, { type: CONSTRAINT_TYPES[k.type] ?? k.type, definition: k.definition, comment: k.comment });
  }
  for (const i of rows.indexes) {
    const rel = relations.get(i.relid);
    if (!rel) continue;
    add(`index ${i.name}`, { table: rel.name, definition: unqualify(i.definition, names, rel), valid: i.valid, comment: i.comment });
  }
  for (const f of rows.functions) add(functionKey(f), functionObject(f, names, role, grants));
  for (const t of rows.triggers) {
    const rel = attachable.get(t.relid);
    if (!rel) continue;
    add(`trigger ${rel.name}.${t.name}`, { definition: unqualify(t.definition, names, rel), enabled: TRIGGER_STATES[t.enabled] ?? t.enabled, comment: t.comment });
  }
  for (const w of rows.rules) {
    const rel = attachable.get(w.relid);
    if (!rel) continue;
    add(`rule ${rel.name}.${w.name}`, { definition: unqualify(w.definition, names, rel), enabled: TRIGGER_STATES[w.enabled] ?? w.enabled, comment: w.comment });
  }
  for (const p of rows.policies) {
    const rel = attachable.get(p.relid);
    if (!rel) continue;
    add(`policy ${rel.name}.${p.name}`, {
      command: POLICY_COMMANDS[p.command] ?? p.command,
      permissive: p.permissive,
      roles: p.roles.map(role).sort(compareCodeUnits),
      using: p.using,
      withCheck: p.withCheck,
      comment: p.comment,
    });
  }
  for (const t of rows.types) {
    add(`type ${t.name}`, {
      kind: TYPE_KINDS[t.kind] ?? t.kind,
      ...(t.labels !== null && { labels: t.labels }),
      ...(t.baseType !== null && { baseType: t.baseType, notNull: t.notNull, default: t.default }),
      ...(t.subtype !== null && { subtype: t.subtype }),
      owner: role(t.owner),
      grants: grants(t.acl),
      comment: t.comment,
    });
  }
  return objects;
}

/**
 * The reference owner: the owner of `authdb_migrations` (the role that ran the
 * migrations) or, without it, the role owning the most objects.
 */
export function referenceOwner(rows: CatalogRows): string {
  const tracking = rows.relations.find((r) => r.name === TRACKING_TABLE && r.kind === 'r');
  if (tracking) return tracking.owner;
  const counts = new Map<string, number>();
  for (const { owner } of [...rows.relations, ...rows.functions, ...rows.types]) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return [...counts].sort(([a, m], [b, n]) => n - m || compareCodeUnits(a, b))[0]?.[0] ?? '';
}

/** Splits text into lines (CRLF counts as LF) for line-by-line diffs. */
export function textLines(text: string): string[] {
  return text.replace(/\r\n/g, '\n').split('\n');
}

const RELATION_KINDS: Readonly<Record<string, string>> = {
  r: 'table',
  p: 'table',
  f: 'foreign table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  c: 'type',
};
const CONSTRAINT_TYPES: Readonly<Record<string, string>> = { p: 'primary key', u: 'unique', f: 'foreign key', c: 'check', x: 'exclusion' };
const TRIGGER_STATES: Readonly<Record<string, string>> = { O: 'enabled', D: 'disabled', R: 'replica', A: 'always' };
const POLICY_COMMANDS: Readonly<Record<string, string>> = { '*': 'ALL', r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };
const TYPE_KINDS: Readonly<Record<string, string>> = { e: 'enum', d: 'domain', r: 'range' };
const FUNCTION_KINDS: Readonly<Record<string, string>> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window function' };
const VOLATILITY: Readonly<Record<string, string>> = { i: 'immutable', s: 'stable', v: 'volatile' };
const PARALLEL: Readonly<Record<string, string>> = { s: 'safe', r: 'restricted', u: 'unsafe' };

export function relationKey(r: Pick<RelationRow, 'kind' | 'name'>): string {
  return `${RELATION_KINDS[r.kind] ?? r.kind} ${r.name}`;
}

function relationObject(
  r: RelationRow,
  role: (name: string) => string,
  grants: (acl: readonly AclEntry[] | null) => Json,
  sequence: CatalogRows['sequences'][number] | undefined,
): SnapshotObject {
  const common = { owner: role(r.owner), comment: r.comment, ...(r.kind !== 'c' && { grants: grants(r.acl) }) };
  if (r.kind === 'c') return { ...common, kind: 'composite' };
  if (r.kind === 'v' || r.kind === 'm') return { ...common, definition: textLines(r.viewDefinition ?? '') };
  if (r.kind === 'S' && sequence) {
    const { type, start, increment, min, max, cache, cycle, ownedBy } = sequence;
    return { ...common, type, start, increment, min, max, cache, cycle, ownedBy };
  }
  return {
    ...common,
    rowSecurity: r.rowSecurity,
    forceRowSecurity: r.forceRowSecurity,
    unlogged: r.persistence === 'u',
    ...(r.partitionKey !== null && { partitionKey: r.partitionKey }),
    ...(r.partitionBound !== null && { partitionBound: r.partitionBound }),
    ...(r.parents !== null && { inherits: r.parents }),
  };
}

/**
 * The schema's owner and the privileges other roles hold on it, so that a
 * later `GRANT CREATE ON SCHEMA … TO …` is drift. The roles the schema-trust
 * check trusts are written {@link OWNER_PLACEHOLDER} as owner and left out as
 * grantees: the reference owner, superusers, and `pg_database_owner` (owner
 * of `public` since PostgreSQL 15) when it stands for one of them. So `public`
 * on PostgreSQL 14 (owned by the bootstrap superuser) and 15+, and a schema
 * the owner created, all read `{ owner: <owner>, grants: {} }`. PUBLIC's USAGE
 * is left out too: `public` has it by default, a created schema does not, and
 * alone it gives nothing (every object's own grants are recorded).
 */
function schemaObject(s: SchemaRow, owner: string): SnapshotObject {
  const resolved = (name: string): string => (name === DATABASE_OWNER_ROLE ? s.databaseOwner : name);
  const trusted = (name: string): boolean => resolved(name) === owner || s.superusers.includes(resolved(name));
  const acl = s.acl.filter((e) => !trusted(e.grantee) && !(e.grantee === 'PUBLIC' && e.privilege === 'USAGE' && !e.grantable));
  return { owner: trusted(s.owner) ? OWNER_PLACEHOLDER : s.owner, grants: grantsByRole(acl, (name) => name) };
}

function functionKey(f: FunctionRow): string {
  return `${FUNCTION_KINDS[f.kind] ?? f.kind} ${f.name}(${f.argumentTypes})`;
}

function functionObject(
  f: FunctionRow,
  names: SchemaNames,
  role: (name: string) => string,
  grants: (acl: readonly AclEntry[] | null) => Json,
): SnapshotObject {
  const body = (f.sqlBody ?? f.source ?? '').replace(/\r\n/g, '\n');
  return {
    arguments: f.arguments,
    returns: f.result,
    language: f.language,
    volatility: VOLATILITY[f.volatility] ?? f.volatility,
    securityDefiner: f.securityDefiner,
    strict: f.strict,
    leakproof: f.leakproof,
    parallel: PARALLEL[f.parallel] ?? f.parallel,
    cost: f.cost,
    rows: f.rows,
    settings: settings(f.config ?? [], names),
    bodySha256: createHash('sha256').update(body).digest('hex'),
    body: body.split('\n'),
    owner: role(f.owner),
    grants: grants(f.acl),
    comment: f.comment,
  };
}

/** `proconfig` as an object; the target schema in `search_path` becomes {@link SCHEMA_PLACEHOLDER}. */
function settings(config: readonly string[], names: SchemaNames): Json {
  const result: Record<string, string> = {};
  for (const entry of config) {
    const at = entry.indexOf('=');
    const name = entry.slice(0, at);
    const value = entry.slice(at + 1);
    result[name] =
      name === 'search_path'
        ? value
            .split(/,\s*/)
            .map((item) => (item === names.quotedSchema ? SCHEMA_PLACEHOLDER : item))
            .join(', ')
        : value;
  }
  return result;
}

/** `pg_get_indexdef`/`pg_get_triggerdef`/`pg_get_ruledef` always qualify the table; drop the target schema from it. */
function unqualify(definition: string, names: SchemaNames, rel: RelationRow): string {
  return definition.replace(` ${names.quotedSchema}.${rel.quoted} `, ` ${rel.quoted} `);
}

/** `{ grantee: ["PRIVILEGE", "PRIVILEGE WITH GRANT OPTION", …] }`, grantees and privileges sorted. */
function grantsByRole(acl: readonly AclEntry[], role: (name: string) => string): Json {
  const byRole = new Map<string, string[]>();
  for (const entry of acl) {
    const grantee = role(entry.grantee);
    byRole.set(grantee, [...(byRole.get(grantee) ?? []), entry.grantable ? `${entry.privilege} WITH GRANT OPTION` : entry.privilege]);
  }
  return Object.fromEntries([...byRole].map(([grantee, privileges]) => [grantee, privileges.sort(compareCodeUnits)]));
}
