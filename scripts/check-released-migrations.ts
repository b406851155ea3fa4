// Refuses a change to a released migration: every file that
// migrations/releases.json lists must keep its exact bytes (SHA-256).
//
//   npm run check:releases [-- --migrations-dir DIR]
//   npm run check:releases -- --record VERSION     # cutting a release: list the new files
//
// Exit 0 when every released file is unchanged, 1 when one changed or is gone
// (each named), 2 on a usage error.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MANIFEST_FILE, readManifest, recordRelease, releasedMigrationProblems } from './release/released-migrations.js';
import { runScriptMain } from './release/script-main.js';

const DEFAULT_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

const HELP = `Usage: npm run check:releases -- [--migrations-dir DIR] [--record VERSION]

Checks that every migration file DIR/${MANIFEST_FILE} lists still has the
bytes it was released with (SHA-256); exits 1 naming each changed or deleted file.

  --migrations-dir DIR   default: the repository's migrations/
  --record VERSION       add release VERSION: every migration file no earlier
                         release lists, with its checksum (when cutting a release)
  -h, --help             show this help`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'migrations-dir': { type: 'string' }, record: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const dir = values['migrations-dir'] ?? DEFAULT_DIR;
  const manifest = await readManifest(dir);
  if (values.record !== undefined) {
    const next = await recordRelease(dir, manifest, values.record);
    await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(next, null, 2)}\n`);
    console.log(`recorded release ${values.record}: ${Object.keys(next.releases.at(-1)?.files ?? {}).length} files in ${join(dir, MANIFEST_FILE)}`);
    return 0;
  }
  const problems = await releasedMigrationProblems(dir, manifest);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) return 1;
  const count = manifest.releases.reduce((n, r) => n + Object.keys(r.files).length, 0);
  console.log(`released migrations unchanged: ${count} files of ${manifest.releases.length} release(s) (${join(dir, MANIFEST_FILE)})`);
  return 0;
}

runScriptMain(main, HELP);
