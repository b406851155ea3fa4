import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksumText, formatSourceProblem, readSql, type SqlSource } from '../sql/sql-source.js';
import { MigrationFileError, MigrationSourceError } from './errors.js';
import { AUTHDB_SOURCE, MIGRATION_NAME_PATTERN, SOURCE_NAME_PATTERN, type MigrationFile, type MigrationSourceSpec } from './migration-file.js';

/** The migrations shipped with authdb (`migrations/` at the package root). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_PATTERN = /^(.+)\.(up|down)\.sql$/;

/**
 * Reads every `NAME.up.sql` / `NAME.down.sql` pair in `dir`, sorted by name.
 * Collects every problem (bad names, a half of a pair missing) before failing.
 */
export async function loadMigrations(dir: string, source: string = AUTHDB_SOURCE): Promise<readonly MigrationFile[]> {
  const pairs = await listMigrations(dir);
  const read = await Promise.all(pairs.map((pair) => readPair(pair, source)));
  const unreadable = read.flatMap((r) => ('problems' in r ? r.problems : []));
  if (unreadable.length > 0) throw new MigrationFileError('migration files that cannot be used as SQL; nothing was run:', unreadable);
  return read.flatMap((r) => ('file' in r ? [r.file] : []));
}

/** The up/down pairs in `dir`, sorted by name, without reading them; every naming problem at once. */
export async function listMigrations(dir: string): Promise<readonly { readonly name: string; readonly upPath: string; readonly downPath: string }[]> {
  const root = resolve(dir);
  const entries = await readdir(root).catch((error: unknown) => {
    throw new MigrationSourceError(`cannot read the migrations directory ${root}: ${(error as Error).message}`, [], { cause: error });
  });
  const halves = new Map<string, { up?: string; down?: string }>();
  const problems: string[] = [];
  for (const entry of entries.sort()) {
    const match = FILE_PATTERN.exec(entry);
    if (!match) {
      if (entry.endsWith('.sql')) problems.push(`${join(root, entry)}: not named NAME.up.sql or NAME.down.sql`);
      continue;
    }
    const [, name = '', direction] = match;
    if (!MIGRATION_NAME_PATTERN.test(name)) {
      problems.push(`${join(root, entry)}: name must be a 14-digit timestamp, "_" and lowercase words (e.g. 20261125093000_add_users)`);
      continue;
    }
    halves.set(name, { ...halves.get(name), [direction === 'up' ? 'up' : 'down']: join(root, entry) });
  }
  const pairs: { name: string; upPath: string; downPath: string }[] = [];
  for (const [name, { up, down }] of halves) {
    if (up === undefined) problems.push(`${join(root, `${name}.up.sql`)}: missing (its down file exists)`);
    else if (down === undefined) problems.push(`${join(root, `${name}.down.sql`)}: missing (every up file needs an exact down file)`);
    else pairs.push({ name, upPath: up, downPath: down });
  }
  if (problems.length > 0) throw new MigrationSourceError(`invalid migrations directory ${root}`, problems);
  return pairs;
}

/**
 * Reads every source, in the order given (authdb's first): each source's
 * files sorted by name. A migration name in two sources, or a source name
 * given twice, is refused before anything is read further: the history
 * (`authdb_migrations`) keys on the name.
 */
export async function loadSources(sources: readonly MigrationSourceSpec[]): Promise<readonly MigrationFile[]> {
  const problems = sourceSpecProblems(sources);
  if (problems.length > 0) throw new MigrationSourceError('invalid migration sources', problems);
  const loaded = await Promise.all(sources.map((s) => loadMigrations(s.dir, s.name)));
  const files = loaded.flat();
  const first = new Map<string, MigrationFile>();
  for (const file of files) {
    const other = first.get(file.name);
    if (other) problems.push(`${file.name}: in source "${other.source}" (${other.upPath}) and in source "${file.source}" (${file.upPath}); rename the application's pair (both files) to a new timestamp (authdb migrate create prints one)`);
    else first.set(file.name, file);
  }
  if (problems.length > 0) throw new MigrationSourceError('two migration sources hold a migration of the same name', problems);
  return files;
}

function sourceSpecProblems(sources: readonly MigrationSourceSpec[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { name, dir } of sources) {
    if (name !== AUTHDB_SOURCE && !SOURCE_NAME_PATTERN.test(name)) problems.push(`source name "${name}" (${dir}): use lowercase letters, digits, "_" and "-", starting with a letter (e.g. app=db/migrations)`);
    const earlier = seen.get(name);
    if (earlier !== undefined) problems.push(`source name "${name}" is given twice (${earlier} and ${dir})${name === AUTHDB_SOURCE ? '; "authdb" names authdb\'s own migrations: give the application\'s directory another name (app=DIR)' : ''}`);
    else seen.set(name, dir);
  }
  const dirs = new Map<string, string>();
  for (const { name, dir } of sources) {
    const key = resolve(dir);
    const earlier = dirs.get(key);
    if (earlier !== undefined) problems.push(`directory ${key} is given as source "${earlier}" and as source "${name}"; give each directory once`);
    else dirs.set(key, name);
  }
  return problems;
}

/**
 * Reads both halves of a pair through the one loader every command uses
 * (strict UTF-8, BOM dropped, NUL refused): the problems, or the file.
 */
async function readPair(pair: { name: string; upPath: string; downPath: string }, source: string): Promise<{ file: MigrationFile } | { problems: string[] }> {
  const [up, down] = await Promise.all([readSource(pair.upPath), readSource(pair.downPath)]);
  if (!('text' in up) || !('text' in down)) return { problems: [up, down].flatMap((s) => ('text' in s ? [] : [s.problem])) };
  return { file: { ...pair, source, up, down, checksum: checksumText(up.text) } };
}

async function readSource(path: string): Promise<SqlSource | { problem: string }> {
  const outcome = await readSql(path).catch((error: unknown) => {
    throw new MigrationSourceError(`cannot read ${path}: ${(error as Error).message}`, [], { cause: error });
  });
  return outcome.ok ? outcome.source : { problem: formatSourceProblem(outcome.problem) };
}
