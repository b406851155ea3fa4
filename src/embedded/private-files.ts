import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EmbeddedError } from './errors.js';

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_WRONLY } = constants;

/** Mode of every file authdb writes in the cluster directory. Default is owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;

/** The uid of this process (`-1` where there is none). */
export function currentUid(): number {
  return process.getuid?.() ?? -1;
}

/**
 * Creates `path` exclusively, never through a symlink (`O_CREAT|O_EXCL|O_NOFOLLOW`),
 * with mode 0600, and writes `content`. Fails with `EEXIST` when anything is there.
 */
export async function createPrivateFile(path: string, content: string): Promise<void> {
  const handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` atomically: writes a new private file under an unguessable
 * name next to it, then renames it over `path` (a rename replaces a symlink
 * itself, never its target).
 */
export async function replacePrivateFile(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(16).toString('hex')}`);
  await createPrivateFile(temporary, content);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Opens an existing file or creates it exclusively (mode 0600), never through
 * a symlink, and checks what was opened (see {@link assertPrivateFile}). For
 * lock files, which are kept between runs.
 */
export async function openOrCreatePrivateFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(path, error);
    handle = await openChecked(path, O_RDWR, [currentUid()]);
  }
  return handle;
}

/** Reads a file that must be a private file of one of `owners` (see {@link assertPrivateFile}). */
export async function readPrivateFile(path: string, owners: readonly number[] = [currentUid()]): Promise<string> {
  const handle = await openChecked(path, O_RDONLY, owners);
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Opens a file of one of `owners` for appending, never through a symlink. */
export function openForAppend(path: string, owners: readonly number[]): Promise<FileHandle> {
  return openChecked(path, O_WRONLY | O_APPEND, owners);
}

/** Opens `path` without following a symlink and checks it with {@link assertPrivateFile}. */
export async function openChecked(path: string, flags: number, owners: readonly number[]): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, flags | O_NOFOLLOW);
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    assertPrivateFile(path, await handle.stat(), owners);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * A file authdb trusts is a regular file with one name (not a hard link to
 * somebody else's file), owned by one of `owners`, that nobody else can write.
 */
export function assertPrivateFile(path: string, info: Stats, owners: readonly number[]): void {
  const problem = !info.isFile()
    ? 'is not a regular file'
    : !owners.includes(info.uid)
      ? `is owned by uid ${info.uid}, not by ${owners.map((uid) => `uid ${uid}`).join(' or ')}`
      : info.nlink !== 1
        ? `has ${info.nlink} hard links`
        : (info.mode & 0o022) !== 0
          ? `is writable by group or others (mode ${(info.mode & 0o777).toString(8)})`
          : undefined;
  if (problem) {
    throw new EmbeddedError(
      'AUTHDB_EMBEDDED_DIR',
      `refusing to use ${path}: it ${problem}; somebody else may have planted it. Remove it (or the whole directory) if you trust it, and run again`,
    );
  }
}

/** Turns a failed open into a clear message (a symlink refused, a read-only filesystem). */
export function fileError(path: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') {
    return new EmbeddedError('AUTHDB_EMBEDDED_DIR', `refusing to use ${path}: it is a symbolic link (authdb never follows links in its directory); remove it and run again`, {
      cause: error,
    });
  }
  return error as Error;
}
