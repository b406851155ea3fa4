import { rename, unlink } from 'node:fs/promises';
import { DEFAULT_FILE_MODE, lstatIfExists, stageFile } from '../fs/staged-file.js';

/** Mode of a new output file, before the umask. Default is what `fs.writeFile` uses. */
export const DEFAULT_OUTPUT_FILE_MODE = DEFAULT_FILE_MODE;

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
  const info = await lstatIfExists(path);
  const temporary = await stageFile(path, content, info?.isFile() ? info.mode & 0o777 : undefined);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
