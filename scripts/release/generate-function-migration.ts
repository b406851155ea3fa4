import { readdir } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type pg from 'pg';
import { definitionDifferences, readFunctionDefinitions, withSqlApplied, type FunctionDefinition } from './function-definition.js';
import { downMigration, migrationStem, upMigration, writeMigrationPair } from './function-migration-pair.js';
import type { FunctionSource } from './function-sources.js';
import { SCRATCH_SCHEMA, withScratchBuild } from './scratch-build.js';

export interface FunctionMigrationOptions {
  readonly source: FunctionSource;
  /** The new pair's name (lowercase words), after the timestamp. */
  readonly name: string;
  readonly migrationsDir: string;
  /** A server to build the scratch database on; default is a throwaway embedded PostgreSQL. */
  readonly databaseUrl?: string | undefined;
  readonly now?: Date;
}

export interface GeneratedPair {
  readonly up: string;
  readonly down: string;
  /** What the up file changes of the function, one entry per field (the definition as a line diff). */
  readonly changes: readonly string[];
}

/**
 * Writes `<timestamp>_<name>.up.sql` (the source) and `.down.sql` (the
 * definition the existing migrations of `migrationsDir` build), after
 * proving on a scratch build that up changes the function and that down,
 * run after it, restores exactly what the migrations built.
 */
export async function generateFunctionMigration(options: FunctionMigrationOptions): Promise<GeneratedPair> {
  const { source, migrationsDir } = options;
  const stem = migrationStem(options.name, options.now ?? new Date());
  await refuseExisting(migrationsDir, stem);
  const pair = await withScratchBuild(migrationsDir, options.databaseUrl, async (client) => {
    const previous = await onlyDefinition(client, source, migrationsDir);
    const applied = await withSqlApplied(client, SCRATCH_SCHEMA, source.text, () => readFunctionDefinitions(client, SCRATCH_SCHEMA, source.name)).catch(
      (error: unknown) => {
        throw new Error(`${source.path} does not run on a database the migrations of ${migrationsDir} built: ${(error as Error).message}; fix the source`, { cause: error });
      },
    );
    const changes = definitionDifferences([previous], applied);
    if (applied.length !== 1 || applied[0]?.signature !== previous.signature) throw new Error(signatureChanged(source, previous, applied));
    if (changes.length === 0) throw new Error(`${source.path} defines ${previous.signature} exactly as the migrations of ${migrationsDir} build it: nothing to migrate (edit the source first)`);
    const down = downMigration(stem, previous, await regprocedure(client, source.name), SCRATCH_SCHEMA);
    if (down === undefined) throw new Error(`the definition of ${previous.signature} names the schema it is in; write this migration by hand`);
    await proveDownRestores(client, source, down, previous);
    return { stem, up: upMigration(stem, source, displayPath(source.path)), down, changes };
  });
  const written = await writeMigrationPair(migrationsDir, pair);
  return { ...written, changes: pair.changes };
}

/** `path` relative to the working directory when it is inside it (sql/functions/x.sql), else absolute. */
function displayPath(path: string): string {
  const near = relative(process.cwd(), path);
  return near === '' || near.startsWith('..') || isAbsolute(near) ? path : near;
}

/** Refuses, before any work, a stem that exists or would sort before an existing migration (the pair must come last). */
async function refuseExisting(dir: string, stem: string): Promise<void> {
  const entries = await readdir(dir).catch((error: unknown) => {
    throw new Error(`cannot read the migrations directory ${dir}: ${(error as Error).message}`, { cause: error });
  });
  const newest = entries.filter((f) => f.endsWith('.up.sql')).map((f) => f.slice(0, -'.up.sql'.length)).sort().at(-1);
  if (newest === stem) throw new Error(`${join(dir, `${stem}.up.sql`)} already exists; a migration is never overwritten (wait a second, or choose another name)`);
  if (newest !== undefined && newest > stem) throw new Error(`${join(dir, `${newest}.up.sql`)} sorts after the new ${stem}; the new pair would be out of order (check the clock, or the name)`);
}

async function onlyDefinition(client: pg.ClientBase, source: FunctionSource, dir: string): Promise<FunctionDefinition> {
  const found = await readFunctionDefinitions(client, SCRATCH_SCHEMA, source.name);
  if (found.length === 0)
    throw new Error(`the migrations of ${dir} create no function ${source.name}: a new function is written as a migration by hand (authdb migrate create), with DROP FUNCTION in its down file`);
  if (found.length > 1 || found[0] === undefined) throw new Error(`the migrations of ${dir} create ${found.length} functions named ${source.name} (${found.map((d) => d.signature).join(', ')}); write this migration by hand`);
  return found[0];
}

function signatureChanged(source: FunctionSource, previous: FunctionDefinition, applied: readonly FunctionDefinition[]): string {
  return (
    `${source.path} does not replace ${previous.signature}: after it the schema holds ${applied.map((d) => d.signature).join(', ')}. ` +
    'CREATE OR REPLACE cannot change the arguments (it adds an overload); write this migration by hand: DROP FUNCTION the old signature in up, the new one in down'
  );
}

/** `name(argument types)` as COMMENT ON FUNCTION and REVOKE name it in a migration (schema-unqualified). */
async function regprocedure(client: pg.ClientBase, name: string): Promise<string> {
  const { rows } = await client.query<{ signature: string }>(
    `SELECT pg_catalog.format('%I(%s)', p.proname, pg_catalog.oidvectortypes(p.proargtypes)) AS signature
       FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2`,
    [SCRATCH_SCHEMA, name],
  );
  return (rows[0]?.signature ?? name).replaceAll(`${SCRATCH_SCHEMA}.`, '');
}

/** Runs up then down on the scratch build (rolled back) and requires the function to be exactly as the migrations built it. */
async function proveDownRestores(client: pg.ClientBase, source: FunctionSource, down: string, previous: FunctionDefinition): Promise<void> {
  const restored = await withSqlApplied(client, SCRATCH_SCHEMA, `${source.text}\n;\n${down}`, () => readFunctionDefinitions(client, SCRATCH_SCHEMA, source.name));
  const left = definitionDifferences([previous], restored);
  if (left.length > 0) throw new Error(`the generated down file would not restore ${previous.signature} (before: as built, after: up + down):\n${left.join('\n')}\nwrite this migration by hand`);
}
