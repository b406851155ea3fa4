import type pg from 'pg';
import { definitionDifferences, functionNames, readFunctionDefinitions, withSqlApplied } from './function-definition.js';
import type { FunctionSource } from './function-sources.js';

/**
 * What keeps `sources` from being exactly the functions of `schema` (a
 * database the migrations built): a function without a source, a source
 * without a function, and each source that changes its function when run
 * (definition, comment, privileges, an overload added) — run in a
 * transaction that is rolled back. Empty when the migrations build exactly
 * the sources.
 */
export async function functionSourceProblems(client: pg.ClientBase, schema: string, sources: readonly FunctionSource[]): Promise<string[]> {
  const names = await functionNames(client, schema);
  const problems = names
    .filter((name) => !sources.some((s) => s.name === name))
    .map((name) => `function ${name}: the migrations create it, but it has no source file ${name}.sql; add one holding its CREATE OR REPLACE FUNCTION, COMMENT and REVOKE`);
  for (const source of sources) {
    if (!names.includes(source.name)) problems.push(`${source.path}: the migrations create no function ${source.name}; a new function ships in a migration written by hand`);
    else problems.push(...(await sourceChanges(client, schema, source)));
  }
  return problems;
}

async function sourceChanges(client: pg.ClientBase, schema: string, source: FunctionSource): Promise<string[]> {
  const built = await readFunctionDefinitions(client, schema, source.name);
  const applied = await withSqlApplied(client, schema, source.text, () => readFunctionDefinitions(client, schema, source.name)).catch((error: unknown) => error as Error);
  if (applied instanceof Error) return [`${source.path}: does not run on a database the migrations built: ${applied.message}`];
  const changes = definitionDifferences(built, applied);
  if (changes.length === 0) return [];
  return [
    `${source.path} differs from what the migrations build (before: as they build it, after: as the source does); ` +
      `ship the change with npm run migration:function -- ${source.name} NAME, or restore the source:\n${changes.join('\n')}`,
  ];
}
