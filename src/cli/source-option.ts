import { isAbsolute, resolve } from 'node:path';
import { SOURCE_NAME_PATTERN, type MigrationSourceSpec } from '../migrate/migration-file.js';
import { UsageError } from './usage.js';

/** The name an application's only migration directory gets when `--app-migrations` names none. */
export const DEFAULT_APPLICATION_SOURCE = 'app';

/** `--app-migrations [NAME=]DIR`, repeatable. */
export const SOURCE_OPTIONS = { 'app-migrations': { type: 'string', multiple: true } } as const;

export const SOURCE_OPTIONS_LINES = `  --app-migrations [NAME=]DIR
                           the application's own migrations, run after authdb's in the
                           same history, each recorded with source NAME (default name:
                           ${DEFAULT_APPLICATION_SOURCE}); repeat for several directories, each named
                           (default: $AUTHDB_APP_MIGRATIONS, entries separated by ",")`;

const NAMED = /^([a-z][a-z0-9_-]{0,62})=(.+)$/;

/**
 * Parses `[NAME=]DIR` entries: relative directories resolve against `base`.
 * One unnamed entry is `app`; with several, each must be named.
 */
export function parseSourceList(entries: readonly string[], base: string, from: string): MigrationSourceSpec[] {
  const specs = entries.map((entry) => {
    const match = NAMED.exec(entry);
    const name = match?.[1];
    const dir = match?.[2] ?? entry;
    if (dir.trim() === '') throw new UsageError(`${from}: "${entry}" names no directory (write [NAME=]DIR, e.g. app=db/migrations)`);
    return { name, dir: isAbsolute(dir) ? dir : resolve(base, dir) };
  });
  const unnamed = specs.filter((s) => s.name === undefined);
  if (unnamed.length > 0 && specs.length > 1) {
    throw new UsageError(`${from}: with several application directories, name each one (NAME=DIR, e.g. app=db/migrations billing=billing/migrations); unnamed: ${unnamed.map((s) => s.dir).join(', ')}`);
  }
  return specs.map((s) => {
    const name = s.name ?? DEFAULT_APPLICATION_SOURCE;
    if (!SOURCE_NAME_PATTERN.test(name)) throw new UsageError(`${from}: source name "${name}" must be lowercase letters, digits, "_" or "-", starting with a letter`);
    return { name, dir: s.dir };
  });
}

/** The application sources of a command: the flag's entries, else `$AUTHDB_APP_MIGRATIONS` (comma-separated). */
export function applicationSources(flag: readonly string[] | undefined, env: NodeJS.ProcessEnv, cwd = process.cwd()): MigrationSourceSpec[] {
  if (flag !== undefined && flag.length > 0) return parseSourceList(flag, cwd, '--app-migrations');
  const value = env.AUTHDB_APP_MIGRATIONS;
  if (value === undefined || value.trim() === '') return [];
  return parseSourceList(splitList(value), cwd, 'AUTHDB_APP_MIGRATIONS');
}

/** `a=x, b=y` → `['a=x', 'b=y']`. */
export function splitList(value: string): string[] {
  return value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
}
