import type { ClientBase } from 'pg';
import { applicationObjects } from '../contract/application-objects.js';
import { parseStatementOutlines } from '../sql/parse.js';
import { MigrationError } from './errors.js';
import { parseDirectives, type MigrationFile } from './migration-file.js';

// `migrate up` on a schema that already holds tables, functions or types of
// the names its pending migrations create, with no history for them (a
// hand-made `users` table, the files applied by hand, a restored dump)
// would apply the first migrations and then fail half-way (42P07). The
// names each pending up file creates are read from its parse tree (as
// `schema check` reads the application's); a name an applied migration
// creates is the install's own (an upgrade replacing a function), not a clash.
// Nor is what the first pending file creates when it runs outside a
// transaction: a failed run stops at the first failing file, so that file
// alone may have been half-applied, and its rerun names its leftovers itself
// (an INVALID index and the DROP INDEX CONCURRENTLY to run).

/** An object of the target schema that a pending migration would create again. */
export interface ExistingObject {
  /** `table users`, `function register_user_with_token`, `type mood`… */
  readonly object: string;
  /** The pending migration that creates it, and its source. */
  readonly migration: string;
  readonly source: string;
}

/** The objects of `schema` that the up files of `pending` create and the `applied` ones do not. */
export async function existingObjects(client: ClientBase, schema: string, pending: readonly MigrationFile[], applied: readonly MigrationFile[]): Promise<ExistingObject[]> {
  if (pending.length === 0) return [];
  const own = await createdNames(applied);
  const wanted = new Map<string, { readonly migration: string; readonly source: string }>();
  for (const file of pending) {
    if (file === pending[0] && !parseDirectives(file.up.text).transaction) continue;
    for (const name of await createdNames([file])) if (!own.has(name) && !wanted.has(name)) wanted.set(name, { migration: file.name, source: file.source });
  }
  const found = await presentObjects(client, schema, [...wanted.keys()]);
  return found.flatMap(({ kind, name }) => {
    const by = wanted.get(name);
    return by ? [{ object: `${kind} ${name}`, migration: by.migration, source: by.source }] : [];
  });
}

/** Relation, index, type and routine names the up files create, with the indexes of their named constraints. */
async function createdNames(files: readonly MigrationFile[]): Promise<Set<string>> {
  const objects = await applicationObjects(files);
  return new Set([...objects.relations, ...objects.indexes, ...objects.functions, ...(await constraintIndexes(files))]);
}

type Node = Readonly<Record<string, unknown>>;
/** Constraints that build an index of their own name, in the schema's namespace. */
const INDEXED = new Set(['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION']);

/** Names of the PRIMARY KEY, UNIQUE and EXCLUDE constraints (and so indexes) the files name, in CREATE TABLE or ALTER TABLE … ADD. */
async function constraintIndexes(files: readonly MigrationFile[]): Promise<string[]> {
  const names: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') {
      const constraint = (node as { Constraint?: Node }).Constraint;
      if (constraint && INDEXED.has(String(constraint.contype)) && typeof constraint.conname === 'string') names.push(constraint.conname);
      Object.values(node as Node).forEach(visit);
    }
  };
  for (const file of files) {
    const parsed = await parseStatementOutlines(file.up);
    if (parsed.ok) for (const statement of parsed.statements) if (statement.type === 'CreateStmt' || statement.type === 'AlterTableStmt') visit(statement.body);
  }
  return names;
}

/** Which of `names` the schema holds: relations and indexes, standalone types, routines. */
async function presentObjects(client: ClientBase, schema: string, names: readonly string[]): Promise<{ kind: string; name: string }[]> {
  if (names.length === 0) return [];
  const { rows } = await client.query<{ kind: string; name: string }>(
    `WITH ns AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) $1::pg_catalog.text)
     SELECT DISTINCT kind, name FROM (
       SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                             WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'index' END AS kind,
              c.relname::pg_catalog.text AS name
         FROM pg_catalog.pg_class AS c JOIN ns ON c.relnamespace OPERATOR(pg_catalog.=) ns.oid
        WHERE c.relname OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.name[]) AND c.relkind OPERATOR(pg_catalog.<>) 't'
       UNION ALL
       SELECT 'type', t.typname::pg_catalog.text
         FROM pg_catalog.pg_type AS t JOIN ns ON t.typnamespace OPERATOR(pg_catalog.=) ns.oid
        WHERE t.typname OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.name[]) AND t.typrelid OPERATOR(pg_catalog.=) 0 AND t.typcategory OPERATOR(pg_catalog.<>) 'A'
       UNION ALL
       SELECT 'function', p.proname::pg_catalog.text
         FROM pg_catalog.pg_proc AS p JOIN ns ON p.pronamespace OPERATOR(pg_catalog.=) ns.oid
        WHERE p.proname OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.name[])
     ) AS found ORDER BY 2, 1`,
    [schema, names],
  );
  return rows;
}

/** `migrate up` would create objects the schema already holds, with no history for them. Nothing was run. */
export class ExistingObjectsError extends MigrationError {
  readonly objects: readonly ExistingObject[];

  constructor(schema: string, objects: readonly ExistingObject[]) {
    super(
      'AUTHDB_EXISTING_OBJECTS',
      [
        `schema "${schema}" already holds objects that pending migrations create, and its history (authdb_migrations) does not record them; nothing was run:`,
        ...objects.map((o) => `  ${o.object}: created by ${o.migration} (source "${o.source}")`),
        'If they are an install of these migrations made another way (the files applied by hand, a restored dump), run',
        '`authdb migrate baseline`: it proves the schema holds exactly what the migrations create and records them as applied.',
        'If they are tables of your own with the same names (hand-made users, email_verification_tokens), rename them first',
        '(ALTER TABLE users RENAME TO legacy_users; …), run `authdb migrate up`, then copy the rows: see "Adopting an existing',
        'database" in the README.',
      ].join('\n'),
    );
    this.objects = objects;
  }
}
