import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;

/** Mode of a new output file, before the umask. Default is what `fs.writeFile` uses. */
export const DEFAULT_OUTPUT_FILE_MODE = 0o666;

/**
 * Writes `content` to `path` (`--out FILE`) without ever writing through a
 * symbolic link: the text goes to a new file beside it (created exclusively,
 * `O_NOFOLLOW`, under an unguessable name), flushed, then renamed over
 * `path`. A rename replaces a symlink itself, never the file it points to;
 * readers see the old file or the new one, never half of it; on failure the
 * temporary file is removed and `path` is untouched. A regular file already at
 * `path` keeps its permission bits.
 */
export async function writeOutputFile(path: string, content: string): Promise<void> {
  const mode = await existingMode(path);
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode ?? DEFAULT_OUTPUT_FILE_MODE);
  try {
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** The permission bits of a regular file at `path` (not following a link), if there is one. */
async function existingMode(path: string): Promise<number | undefined> {
  const info = await lstat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
  return info?.isFile() ? info.mode & 0o777 : undefined;
}
