import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;

/** Mode of a new file, before the umask: what `fs.writeFile` uses. */
export const DEFAULT_FILE_MODE = 0o666;

/**
 * Writes `content` to a new file beside `path` — created exclusively, never
 * through a symbolic link (`O_NOFOLLOW`), under an unguessable name — flushed
 * to disk, and resolves to its path, for the caller to rename over `path`.
 * Its permission bits are `keptMode` exactly (those of a file it replaces),
 * else {@link DEFAULT_FILE_MODE} less the umask. On failure the new file is
 * removed and nothing is left.
 */
export async function stageFile(path: string, content: string, keptMode?: number): Promise<string> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, keptMode ?? DEFAULT_FILE_MODE);
  try {
    try {
      if (keptMode !== undefined) await handle.chmod(keptMode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  return temporary;
}

/** What is at `path`, not following a link; undefined when nothing is. */
export async function lstatIfExists(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  });
}
