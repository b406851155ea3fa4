/** PostgreSQL client programs (pgbench, psql) the bench runs when the machine has them. */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's postgresql packages install their programs, one directory per major version. */
export const DEFAULT_DEBIAN_POSTGRES_DIR = '/usr/lib/postgresql';

export interface Program {
  readonly path: string;
  /** First line of `--version`, e.g. "pgbench (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
  readonly version: string;
}

/** The newest Debian build of `name`, else `name` on PATH; undefined when neither runs. */
export async function findProgram(name: string): Promise<Program | undefined> {
  const versions = await readdir(DEFAULT_DEBIAN_POSTGRES_DIR).catch(() => [] as string[]);
  const candidates = versions
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `${DEFAULT_DEBIAN_POSTGRES_DIR}/${v}/bin/${name}`)
    .concat(name);
  for (const path of candidates) {
    const version = await run(path, ['--version']).then(
      ({ stdout }) => stdout.split('\n')[0]?.trim() ?? '',
      () => undefined,
    );
    if (version !== undefined) return { path, version };
  }
  return undefined;
}
