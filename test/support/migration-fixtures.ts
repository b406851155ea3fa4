import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/migrate/migration-source.js';

/** The two halves of one fixture migration. */
export interface FixtureMigration {
  readonly up: string;
  readonly down: string;
}

/** A temporary directory, removed by `remove()`. */
export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

/** A fresh directory under the OS temp directory (reachable by the `postgres` OS user). */
export async function createTempDir(prefix = 'authdb-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Writes `NAME.up.sql` / `NAME.down.sql` for each entry into a new temporary
 * directory.
 *
 * @example
 * const dir = await writeMigrationDir({ '20260101000001_a': { up: 'CREATE TABLE a ();', down: 'DROP TABLE a;' } });
 */
export async function writeMigrationDir(migrations: Readonly<Record<string, FixtureMigration>>): Promise<TempDir> {
  const dir = await createTempDir('authdb-migrations-');
  await writeMigrations(dir.path, migrations);
  return dir;
}

/** Writes (or overwrites) fixture migrations into `dir`. */
export async function writeMigrations(dir: string, migrations: Readonly<Record<string, FixtureMigration>>): Promise<void> {
  for (const [name, { up, down }] of Object.entries(migrations)) {
    await writeFile(join(dir, `${name}.up.sql`), up);
    await writeFile(join(dir, `${name}.down.sql`), down);
  }
}

/** The names of the migrations authdb ships (migrations/*.up.sql), in order: the released ones and every upgrade after them. */
export function shippedMigrationNames(): string[] {
  return readdirSync(DEFAULT_MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.up.sql'))
    .map((f) => f.slice(0, -'.up.sql'.length))
    .sort();
}
