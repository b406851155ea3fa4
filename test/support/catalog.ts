import type { ClientBase, Pool } from 'pg';

/**
 * A deterministic, OID-free description of everything in `schema`: relations
 * (with ACLs and comments), columns, constraints, indexes, functions, triggers
 * and policies, plus the database's extensions (whose own members are left
 * out). Two schemas built by the same DDL produce equal dumps.
 */
export async function dumpSchema(db: ClientBase | Pool, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(DUMP_SQL, [schema]);
  return rows.map((r) => r.line);
}

/** Every schema and relation in the database outside the system schemas. */
export async function listObjects(db: ClientBase | Pool): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(`
    SELECT 'schema ' || nspname AS line FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
    UNION ALL
    SELECT 'relation ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT 'extension ' || extname FROM pg_extension
    ORDER BY 1`);
  return rows.map((r) => r.line);
}

const DUMP_SQL = `
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1),
rel AS (SELECT c.* FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns))
SELECT 'schema acl=' || coalesce((SELECT nspacl::text FROM pg_namespace WHERE nspname = $1), '') AS line
UNION ALL
SELECT format('relation %s kind=%s acl=%s comment=%s', relname, relkind, coalesce(relacl::text, ''), coalesce(obj_description(oid, 'pg_class'), ''))
  FROM rel
UNION ALL
SELECT format('column %s.%s %s notnull=%s default=%s identity=%s generated=%s acl=%s comment=%s',
              c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
              coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity, a.attgenerated,
              coalesce(a.attacl::text, ''), coalesce(col_description(c.oid, a.attnum), ''))
  FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
UNION ALL
SELECT format('constraint %s.%s %s comment=%s', c.relname, k.conname, pg_get_constraintdef(k.oid), coalesce(obj_description(k.oid, 'pg_constraint'), ''))
  FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
UNION ALL
SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN rel c ON c.oid = i.indexrelid
UNION ALL
SELECT format('function %s acl=%s comment=%s', pg_get_functiondef(p.oid), coalesce(p.proacl::text, ''), coalesce(obj_description(p.oid, 'pg_proc'), ''))
  FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM ns) AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT format('trigger %s comment=%s', pg_get_triggerdef(t.oid), coalesce(obj_description(t.oid, 'pg_trigger'), ''))
  FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT format('policy %s.%s %s %s', c.relname, p.polname, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
  FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
UNION ALL
SELECT format('extension %s in %s', e.extname, n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY 1`;
