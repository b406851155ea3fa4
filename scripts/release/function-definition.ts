import type pg from 'pg';
import { lineDiff } from '../../src/contract/line-diff.js';

/** Everything a database holds of one function: what `CREATE OR REPLACE FUNCTION`, `COMMENT ON FUNCTION` and `GRANT`/`REVOKE` set. */
export interface FunctionDefinition {
  /** `name(argument types)`, e.g. `verify_email(text, text, text)`. */
  readonly signature: string;
  /** `pg_get_functiondef`: arguments, defaults, result, language, volatility, strictness, security, parallel safety, cost, settings and the body as written. */
  readonly definition: string;
  readonly comment: string | null;
  /** `proacl` as text, NULL for the default privileges. */
  readonly acl: string | null;
}

/** Every function named `name` in `schema` (one, unless it is overloaded or absent). */
export async function readFunctionDefinitions(client: pg.ClientBase, schema: string, name: string): Promise<FunctionDefinition[]> {
  const { rows } = await client.query<FunctionDefinition>(
    `SELECT p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS signature,
            pg_catalog.pg_get_functiondef(p.oid) AS definition,
            pg_catalog.obj_description(p.oid, 'pg_proc') AS comment,
            p.proacl::text AS acl
       FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2
      ORDER BY 1`,
    [schema, name],
  );
  return rows;
}

/** Names of the functions of `schema` that do not belong to an extension, sorted. */
export async function functionNames(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT DISTINCT p.proname AS name
       FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname = $1
        AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS d
                         WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.name);
}

/**
 * Runs `sql` in `schema` as a migration would (search_path = schema, pg_temp;
 * standard_conforming_strings on), then `work` under the session's own
 * search_path again (pg_get_functiondef deparses an SQL-standard body
 * relative to it), in one transaction that is rolled back: the database is
 * left as it was.
 */
export async function withSqlApplied<T>(client: pg.ClientBase, schema: string, sql: string, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ path: string }>(`SELECT pg_catalog.current_setting('search_path') AS path`);
    await client.query(`SELECT pg_catalog.set_config('search_path', $1, true), pg_catalog.set_config('standard_conforming_strings', 'on', true)`, [
      `${client.escapeIdentifier(schema)}, pg_temp`,
    ]);
    await client.query(sql);
    await client.query(`SELECT pg_catalog.set_config('search_path', $1, true)`, [rows[0]?.path ?? '']);
    return await work();
  } finally {
    await client.query('ROLLBACK');
  }
}

/** What differs between two readings of a function, one line per field (the definition as a line diff); empty when they are equal. */
export function definitionDifferences(expected: readonly FunctionDefinition[], actual: readonly FunctionDefinition[]): string[] {
  const signatures = (ds: readonly FunctionDefinition[]) => ds.map((d) => d.signature).join(', ') || '(none)';
  if (signatures(expected) !== signatures(actual)) return [`functions: ${signatures(expected)} → ${signatures(actual)}`];
  return expected.flatMap((e, i) => fieldDifferences(e, actual[i] ?? e));
}

function fieldDifferences(expected: FunctionDefinition, actual: FunctionDefinition): string[] {
  const problems: string[] = [];
  if (expected.definition !== actual.definition) {
    const changed = lineDiff(expected.definition.split('\n'), actual.definition.split('\n')).filter((l) => l.op !== ' ');
    problems.push(`${expected.signature} definition (- before, + after):\n${changed.map((l) => `  ${l.op} ${String(l.line).padStart(4)}: ${l.text}`).join('\n')}`);
  }
  if (expected.comment !== actual.comment) problems.push(`${expected.signature} comment: ${JSON.stringify(expected.comment)} → ${JSON.stringify(actual.comment)}`);
  if (expected.acl !== actual.acl) problems.push(`${expected.signature} privileges: ${String(expected.acl)} → ${String(actual.acl)}`);
  return problems;
}
