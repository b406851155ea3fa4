// Proves that the migrations build exactly the reviewed function sources
// (sql/functions/<name>.sql): a scratch database is built from the
// migrations, and each source, run on it in a transaction that is rolled
// back, must change nothing of its function (pg_get_functiondef, comment,
// privileges, no overload); every function must have a source.
//
//   npm run check:functions [-- --database-url URL] [--migrations-dir DIR] [--sources-dir DIR]
//
// Exit 0 when they match, 1 naming each difference, 2 on a usage error.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { functionSourceProblems } from './release/function-source-check.js';
import { FUNCTION_SOURCES_DIR, listFunctionSources } from './release/function-sources.js';
import { SCRATCH_SCHEMA, withScratchBuild } from './release/scratch-build.js';
import { runScriptMain } from './release/script-main.js';

const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

const HELP = `Usage: npm run check:functions -- [--database-url URL] [--migrations-dir DIR] [--sources-dir DIR]

Builds a scratch database from the migrations and checks that every function
they create is exactly its source file, and every source file a function.

  --database-url URL     a server to build the scratch database on (created
                         and dropped; the role needs CREATEDB). Default: a
                         throwaway embedded PostgreSQL in the temp directory
  --migrations-dir DIR   default: the repository's migrations/
  --sources-dir DIR      default: the repository's sql/functions/
  -h, --help             show this help`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'database-url': { type: 'string' }, 'migrations-dir': { type: 'string' }, 'sources-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const sourcesDir = resolve(values['sources-dir'] ?? FUNCTION_SOURCES_DIR);
  const sources = await listFunctionSources(sourcesDir);
  const migrationsDir = resolve(values['migrations-dir'] ?? DEFAULT_MIGRATIONS_DIR);
  const problems = await withScratchBuild(migrationsDir, values['database-url'], (client) => functionSourceProblems(client, SCRATCH_SCHEMA, sources));
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) return 1;
  console.log(`function sources match: the migrations of ${migrationsDir} build exactly the ${sources.length} sources in ${sourcesDir}`);
  return 0;
}

runScriptMain(main, HELP);
