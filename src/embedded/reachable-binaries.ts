import { randomBytes } from 'node:crypto';
import { chmod, cp, lstat, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { PostgresBinaries } from './binaries.js';
import { unreachableAncestor } from './cluster-directory.js';
import { EmbeddedError } from './errors.js';
import type { ServerAccount } from './os-user.js';

/** Suffix of the directory beside a cluster directory that holds a copy of the binaries. */
export const BINARIES_COPY_SUFFIX = '-postgres';

/** Written into the copy: which build it copies, so a changed build is copied again. */
const STAMP = 'authdb-copy.json';

/**
 * Binaries the server's OS user can run. As root, the server runs as
 * `postgres`, which cannot run binaries installed under a directory it
 * cannot enter (a project in a 0700 home or temp directory): then the build
 * (`bin/`, `lib/`, `share/`) is copied once into `<clusterDir>-postgres`, a
 * root-owned directory beside the cluster directory (whose parents authdb has
 * already checked: only root can write them), and that copy is used — again
 * while it matches the installed build, copied afresh when that changed.
 */
export async function reachableBinaries(
  binaries: PostgresBinaries,
  account: ServerAccount,
  clusterDir: string,
  log?: (message: string) => void,
): Promise<PostgresBinaries> {
  const blocked = await unreachableAncestor(binaries.postgres, account);
  if (blocked === undefined) return binaries;
  const build = dirname(dirname(binaries.postgres));
  const copy = `${resolve(clusterDir)}${BINARIES_COPY_SUFFIX}`;
  const stamp = await buildStamp(build);
  if ((await readStamp(copy)) !== stamp) {
    log?.(
      `authdb: the PostgreSQL binaries in ${build} are out of reach of OS user "${account.name}" ` +
        `(${blocked.path} has mode ${blocked.mode.toString(8)}); copying them to ${copy}`,
    );
    await copyBuild(build, copy, stamp);
  }
  const inCopy = (file: string): string => join(copy, 'bin', basename(file));
  return { initdb: inCopy(binaries.initdb), pg_ctl: inCopy(binaries.pg_ctl), postgres: inCopy(binaries.postgres) };
}

/** Identifies a build: its path and its `postgres` binary's size and modification time. */
async function buildStamp(build: string): Promise<string> {
  const info = await stat(join(build, 'bin', 'postgres'));
  return JSON.stringify({ build, size: info.size, mtimeMs: info.mtimeMs });
}

/** The stamp of an existing copy: only a real directory that root owns and nobody else can write counts. */
async function readStamp(copy: string): Promise<string | undefined> {
  const info = await lstat(copy).catch(() => undefined);
  if (info === undefined) return undefined;
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new EmbeddedError(
      'AUTHDB_EMBEDDED_DIR',
      `${copy} (where authdb keeps a copy of the PostgreSQL binaries the server's OS user can run) is not a directory that only root can write; remove it`,
    );
  }
  return readFile(join(copy, STAMP), 'utf8').catch(() => undefined);
}

/** Copies the build into a new directory, then swaps it in for the old copy. */
async function copyBuild(build: string, copy: string, stamp: string): Promise<void> {
  const building = `${copy}.${randomBytes(8).toString('hex')}`;
  try {
    await cp(build, building, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await chmod(building, 0o755);
    await writeFile(join(building, STAMP), stamp, { mode: 0o644 });
    await rm(copy, { recursive: true, force: true });
    await rename(building, copy);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw new EmbeddedError('AUTHDB_EMBEDDED_DIR', `could not copy the PostgreSQL binaries from ${build} to ${copy}: ${(error as Error).message}`, { cause: error });
  }
}
