import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { lstatIfExists, stageFile } from '../fs/staged-file.js';
import { MigrationError } from '../migrate/errors.js';

/** A file to write into the output directory: its name there and its whole text. */
export interface OutputFile {
  readonly name: string;
  readonly content: string;
}

/** What a write did: the names it created, and those already there with the same bytes. */
export interface WriteOutcome {
  readonly written: readonly string[];
  readonly upToDate: readonly string[];
}

/** The version a file name carries (its leading digits), if any: two files of one version clash. */
export type VersionOf = (name: string) => string | undefined;

/**
 * Writes every file of `files` into `dir` that is not there yet, all or none:
 * a file already there with the same bytes is left alone ("up to date"); one
 * with other bytes, anything but a regular file at one of the names, or another
 * file of the same version (`versionOf`) is refused (`AUTHDB_EXPORT`, naming
 * each) before anything is written. Each new file is written beside its name
 * (created exclusively, never through a symbolic link), flushed, then renamed
 * to it; when one fails, the files this call created are removed again.
 */
export async function writeNewFiles(dir: string, files: readonly OutputFile[], versionOf: VersionOf): Promise<WriteOutcome> {
  await mkdir(dir, { recursive: true });
  const { fresh, upToDate } = await planWrites(dir, files, versionOf);
  const staged: { readonly temporary: string; readonly path: string }[] = [];
  const created: string[] = [];
  try {
    for (const file of fresh) {
      const path = join(dir, file.name);
      staged.push({ temporary: await stageFile(path, file.content), path });
    }
    for (const { temporary, path } of staged) {
      await rename(temporary, path);
      created.push(path);
    }
  } catch (error) {
    await Promise.all([...staged.map((s) => s.temporary), ...created].map((path) => unlink(path).catch(() => undefined)));
    throw error;
  }
  return { written: fresh.map((f) => f.name), upToDate };
}

async function planWrites(dir: string, files: readonly OutputFile[], versionOf: VersionOf): Promise<{ fresh: OutputFile[]; upToDate: string[] }> {
  const problems: string[] = [];
  const fresh: OutputFile[] = [];
  const upToDate: string[] = [];
  const ours = new Set(files.map((f) => f.name));
  const versions = new Map(files.map((f) => [versionOf(f.name), f.name]));
  for (const entry of (await readdir(dir)).sort()) {
    const clash = versions.get(versionOf(entry));
    if (!ours.has(entry) && clash !== undefined && versionOf(entry) !== undefined) {
      problems.push(`${join(dir, entry)}: has the version of ${clash}, which this export writes (supabase db push keys its history on the version); remove one of them`);
    }
  }
  for (const file of files) {
    const path = join(dir, file.name);
    const existing = await existingText(path);
    if (existing === undefined) fresh.push(file);
    else if (existing === null) problems.push(`${path}: exists and is not a regular file; remove it`);
    else if (existing === file.content) upToDate.push(file.name);
    else problems.push(`${path}: exists with other content (edited, or exported by another authdb version or with another --schema); an applied migration never changes: restore it from version control, or remove it if it was never pushed`);
  }
  if (problems.length > 0) {
    throw new MigrationError('AUTHDB_EXPORT', [`refusing to write into ${dir}; nothing was written:`, ...problems.map((p) => `  ${p}`)].join('\n'));
  }
  return { fresh, upToDate };
}

/** The text of the regular file at `path`; undefined when nothing is there, null for anything else (a link, a directory). */
async function existingText(path: string): Promise<string | null | undefined> {
  const info = await lstatIfExists(path);
  if (info === undefined) return undefined;
  return info.isFile() ? await readFile(path, 'utf8') : null;
}
