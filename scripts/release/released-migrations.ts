import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `migrations/releases.json`: for each released version, the exact bytes (SHA-256) of every migration file it shipped. */
export interface ReleaseManifest {
  readonly releases: readonly Release[];
}

export interface Release {
  readonly version: string;
  /** File name in the migrations directory → SHA-256 (hex) of its bytes. */
  readonly files: Readonly<Record<string, string>>;
}

/** Name of the manifest inside the migrations directory (not a migration: the loader reads only `*.up.sql` / `*.down.sql`). */
export const MANIFEST_FILE = 'releases.json';

export const RELEASED_FIX = "a released migration never changes: ship an upgrade migration instead (see README 'Releases and upgrades')";

/** SHA-256 (hex) of the file's exact bytes: unlike the history checksum, a CRLF or a BOM is a change here. */
export async function fileSha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Reads `dir/releases.json`, refusing a file that is not such a manifest (every problem named). */
export async function readManifest(dir: string): Promise<ReleaseManifest> {
  const path = join(dir, MANIFEST_FILE);
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new Error(`cannot read ${path}: ${(error as Error).message}; it lists the released migrations (npm run check:releases -- --record VERSION writes it)`, { cause: error });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}; restore it from git`, { cause: error });
  }
  if (!isManifest(parsed)) throw new Error(`${path} is not a release manifest ({"releases": [{"version": "…", "files": {"NAME.up.sql": "<sha256>", …}}]}); restore it from git`);
  return parsed;
}

function isManifest(value: unknown): value is ReleaseManifest {
  const releases = (value as { releases?: unknown } | null)?.releases;
  return Array.isArray(releases) && releases.every(isRelease);
}

function isRelease(value: unknown): value is Release {
  const release = value as { version?: unknown; files?: unknown } | null;
  if (typeof release?.version !== 'string' || typeof release.files !== 'object' || release.files === null) return false;
  return Object.values(release.files).every((sum) => typeof sum === 'string' && /^[0-9a-f]{64}$/.test(sum));
}

/** One problem per released file that changed or is gone, naming the file and the release. */
export async function releasedMigrationProblems(dir: string, manifest: ReleaseManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const release of manifest.releases) {
    for (const [file, released] of Object.entries(release.files)) {
      const path = join(dir, file);
      const now = await fileSha256(path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      });
      if (now === undefined) problems.push(`${path}: released in ${release.version}, now deleted; ${RELEASED_FIX}`);
      else if (now !== released) problems.push(`${path}: changed since release ${release.version} (sha256 now ${now}, released ${released}); ${RELEASED_FIX}`);
    }
  }
  return [...problems, ...(await insertedProblems(dir, manifest))];
}

/**
 * A migration no release lists that sorts before the newest released one:
 * a database of that release would find it pending behind applied history.
 */
async function insertedProblems(dir: string, manifest: ReleaseManifest): Promise<string[]> {
  const released = new Set(manifest.releases.flatMap((r) => Object.keys(r.files)));
  const newest = [...released].map(stem).sort().at(-1);
  if (newest === undefined) return [];
  return (await migrationFiles(dir))
    .filter((f) => !released.has(f) && stem(f) < newest)
    .map((f) => `${join(dir, f)}: not released, but sorts before the released ${newest}; a new migration comes after every released one: give it a later timestamp (rename both files)`);
}

/** `20261125000001_roles` of `20261125000001_roles.up.sql`. */
function stem(file: string): string {
  return file.replace(/\.(up|down)\.sql$/, '');
}

async function migrationFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /\.(up|down)\.sql$/.test(f)).sort();
}

/** The manifest with a new release of every migration file of `dir` that no earlier release lists. */
export async function recordRelease(dir: string, manifest: ReleaseManifest, version: string): Promise<ReleaseManifest> {
  if (manifest.releases.some((r) => r.version === version)) throw new Error(`${join(dir, MANIFEST_FILE)} already lists release ${version}; a release is recorded once`);
  const released = new Set(manifest.releases.flatMap((r) => Object.keys(r.files)));
  const files = (await migrationFiles(dir)).filter((f) => !released.has(f));
  if (files.length === 0) throw new Error(`no migration file of ${dir} is new since the last release: nothing to record for ${version}`);
  const sums = await Promise.all(files.map(async (f) => [f, await fileSha256(join(dir, f))] as const));
  return { releases: [...manifest.releases, { version, files: Object.fromEntries(sums) }] };
}
