import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksumText, formatSourceProblem, readSql, type SqlSource } from '../sql/sql-source.js';
import { MigrationFileError, MigrationSourceError } from './errors.js';
import { MIGRATION_NAME_PATTERN, type MigrationFile } from './migration-file.js';

/** The migrations shipped with authdb (`migrations/` at the package root). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_PATTERN = /^(.+)\.(up|down)\.sql$/;

/**
 * Reads every `NAME.up.sql` / `NAME.down.sql` pair in `dir`, sorted by name.
 * Collects every problem (bad names, a half of a pair missing) before failing.
 */
export async function loadMigrations(dir: string): Promise<readonly MigrationFile[]> {
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
  const read = await Promise.all(pairs.map(readPair));
  const unreadable = read.flatMap((r) => ('problems' in r ? r.problems : []));
  if (unreadable.length > 0) throw new MigrationFileError('migration files that cannot be used as SQL; nothing was run:', unreadable);
  return read.flatMap((r) => ('file' in r ? [r.file] : []));
}

/**
 * Reads both halves of a pair through the one loader every command uses
 * (strict UTF-8, BOM dropped, NUL refused): the problems, or the file.
 */
async function readPair(pair: { name: string; upPath: string; downPath: string }): Promise<{ file: MigrationFile } | { problems: string[] }> {
  const [up, down] = await Promise.all([readSource(pair.upPath), readSource(pair.downPath)]);
  if (!('text' in up) || !('text' in down)) return { problems: [up, down].flatMap((s) => ('text' in s ? [] : [s.problem])) };
  return { file: { ...pair, up, down, checksum: checksumText(up.text) } };
}

async function readSource(path: string): Promise<SqlSource | { problem: string }> {
  const outcome = await readSql(path).catch((error: unknown) => {
    throw new MigrationSourceError(`cannot read ${path}: ${(error as Error).message}`, [], { cause: error });
  });
  return outcome.ok ? outcome.source : { problem: formatSourceProblem(outcome.problem) };
}
