import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ELSEWHERE_HINT, EmbeddedError } from './errors.js';
import type { ServerAccount } from './os-user.js';
import { currentUid } from './private-files.js';

const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY } = constants;

/** Mode of the cluster directory: its owner (the server's OS user) only. */
export const CLUSTER_DIR_MODE = 0o700;

/** Names authdb keeps in a cluster directory; a directory holding anything else, and neither `data` nor `cluster.json`, is not authdb's. */
export const CLUSTER_ENTRIES = ['cluster.json', 'data', 'data.init', 'postgres.log', 'lock', 'users.lock', 'keep-running'];

const STICKY = 0o1000;

/**
 * Makes `dir` ready for a cluster, or refuses it with a clear error:
 *
 * - every existing parent must be owned by root or by this user, and not
 *   writable by others unless sticky (like /tmp), so nobody can swap a path
 *   component; a symlink among them must be owned by root or this user too;
 * - a missing `dir` is created with mode 0700;
 * - an existing `dir` must be a real directory (not a symlink) owned by this
 *   user or by the server's OS user, not writable by others, and either empty
 *   or holding only authdb's files.
 *
 * As root, the directory is then given to the server's OS user (`postgres`),
 * through a handle, so a path swapped meanwhile is never chowned.
 */
export async function prepareClusterDirectory(dir: string, account: ServerAccount): Promise<void> {
  const path = resolve(dir);
  await assertSafeParents(path);
  await assertReachable(path, account);
  let created = false;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await mkdir(path, { mode: CLUSTER_DIR_MODE });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw notWritable(path, error);
  }
  const handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((error: unknown) => {
    throw refuse(path, ['ELOOP', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '') ? 'is a symbolic link or not a directory' : String(error));
  });
  try {
    const info = await handle.stat();
    assertSafeClusterDirectory(path, info, account);
    if (!created) await assertAuthdbContents(path);
    try {
      if (account.uid !== undefined && account.gid !== undefined && info.uid !== account.uid) await handle.chown(account.uid, account.gid);
      if ((info.mode & 0o777) !== CLUSTER_DIR_MODE) await handle.chmod(CLUSTER_DIR_MODE);
    } catch (error) {
      throw notWritable(path, error);
    }
  } finally {
    await handle.close();
  }
}

function assertSafeClusterDirectory(path: string, info: Stats, account: ServerAccount): void {
  const me = currentUid();
  const owners = [me, account.uid ?? me];
  if (!info.isDirectory()) throw refuse(path, 'is not a directory');
  if (!owners.includes(info.uid)) {
    throw refuse(path, `is owned by uid ${info.uid}, not by ${account.uid === undefined ? 'you' : `you or the server's OS user "${account.name}"`}`);
  }
  if ((info.mode & 0o002) !== 0 || ((info.mode & 0o020) !== 0 && info.gid !== process.getgid?.())) {
    throw refuse(path, `is writable by others (mode ${(info.mode & 0o7777).toString(8)})`);
  }
}

async function assertAuthdbContents(path: string): Promise<void> {
  const entries = await readdir(path);
  const foreign = entries.filter((name) => !CLUSTER_ENTRIES.includes(name) && !name.startsWith('.cluster.json.'));
  if (foreign.length > 0 && !entries.includes('data') && !entries.includes('cluster.json')) {
    throw refuse(path, `is not empty and not an authdb cluster directory (it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})`);
  }
}

/**
 * Every existing component of the path above `path`, as written and as
 * resolved, must be safe: a directory owned by root or this user that others
 * cannot write (unless sticky), or a symlink owned by root or this user.
 */
async function assertSafeParents(path: string): Promise<void> {
  const parent = dirname(path);
  await assertSafeComponents(parent, true);
  const real = await realpath(parent).catch(() => undefined);
  if (real !== undefined && real !== parent) await assertSafeComponents(real, false);
}

async function assertSafeComponents(path: string, allowSymlinks: boolean): Promise<void> {
  const me = currentUid();
  const parts = path.split(sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const current = sep + parts.slice(0, i).join(sep);
    const link = await lstat(current).catch(() => undefined);
    if (link === undefined) return; // created by authdb below here
    if (link.isSymbolicLink()) {
      if (!allowSymlinks || (link.uid !== 0 && link.uid !== me)) throw unsafeParent(current, `is a symbolic link owned by uid ${link.uid}`);
      continue;
    }
    const info = await stat(current);
    if (info.uid !== 0 && info.uid !== me) throw unsafeParent(current, `is owned by uid ${info.uid}, so that user can replace what is inside`);
    if ((info.mode & 0o022) !== 0 && (info.mode & STICKY) === 0 && !((info.mode & 0o002) === 0 && info.gid === process.getgid?.())) {
      throw unsafeParent(current, `is writable by others (mode ${(info.mode & 0o7777).toString(8)}) without the sticky bit`);
    }
  }
}

function refuse(path: string, problem: string): EmbeddedError {
  return new EmbeddedError(
    'AUTHDB_EMBEDDED_DIR',
    `refusing to use ${path} as the embedded PostgreSQL directory: it ${problem}. ` +
      `Use a new directory whose parents only root or you can write, such as ${join('/var/lib', 'authdb')} as root; ${ELSEWHERE_HINT}`,
  );
}

function unsafeParent(component: string, problem: string): EmbeddedError {
  return new EmbeddedError(
    'AUTHDB_EMBEDDED_DIR',
    `refusing to put the embedded PostgreSQL under ${component}: it ${problem}. ` +
      `Use a directory whose parents only root or you can write (as root, e.g. /var/lib/authdb); ${ELSEWHERE_HINT}`,
  );
}

/** As root the server runs as another user, which must be able to reach the directory. */
async function assertReachable(dir: string, account: ServerAccount): Promise<void> {
  const blocked = await unreachableAncestor(dir, account);
  if (blocked === undefined) return;
  throw new EmbeddedError(
    'AUTHDB_EMBEDDED_DIR',
    `the embedded PostgreSQL runs as OS user "${account.name}", which cannot enter ${blocked.path} ` +
      `(mode ${blocked.mode.toString(8)}), so it cannot use ${dir}; ` +
      'set AUTHDB_EMBEDDED_DIR (or --embedded-dir) to a directory it can reach whose parents only root can write, such as /var/lib/authdb',
  );
}

/**
 * The first directory above `path` that the server's OS user cannot enter
 * (not its own, no search permission for others), or `undefined` when it can
 * reach `path` — always when the server runs as the current user.
 */
export async function unreachableAncestor(path: string, account: ServerAccount): Promise<{ readonly path: string; readonly mode: number } | undefined> {
  if (account.uid === undefined) return undefined;
  for (let current = dirname(resolve(path)); ; current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info && info.uid !== account.uid && (info.mode & 0o001) === 0) return { path: current, mode: info.mode & 0o777 };
    if (current === dirname(current)) return undefined;
  }
}

/** A directory authdb cannot create or write in (read-only filesystem, no permission). */
export function notWritable(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (!['EACCES', 'EPERM', 'EROFS', 'ENOENT'].includes(code)) return error as Error;
  const why = code === 'EROFS' ? 'is on a read-only filesystem' : code === 'ENOENT' ? 'cannot be created' : 'is not writable by you';
  return new EmbeddedError('AUTHDB_EMBEDDED_DIR', `the embedded PostgreSQL directory ${path} ${why} (${code}); ${ELSEWHERE_HINT}`, { cause: error });
}
