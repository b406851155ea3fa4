// Generates the upgrade migration pair of one SQL function from its reviewed
// source (README "Releases and upgrades"):
//
//   npm run migration:function -- FUNCTION NAME [--migrations-dir DIR] [--sources-dir DIR] [--database-url URL]
//
// Exit 0 with the pair written, 1 when it cannot be generated (nothing is
// written), 2 on a usage error.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FUNCTION_SOURCES_DIR, readFunctionSource } from './release/function-sources.js';
import { generateFunctionMigration } from './release/generate-function-migration.js';
import { runScriptMain, ScriptUsageError } from './release/script-main.js';

const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const NAME = /^[a-z][a-z0-9_]*$/;

const HELP = `Usage: npm run migration:function -- FUNCTION NAME [options]

Writes DIR/<UTC timestamp>_NAME.up.sql, the current text of the function's
source (sql/functions/FUNCTION.sql), and the .down.sql that restores the
function as the existing migrations of DIR build it: they are applied to a
scratch database and the function's pg_get_functiondef, comment and REVOKE
written out. Before writing, it proves on that database that up changes the
function and that down, after up, restores it exactly. Never overwrites a
file; refuses a source equal to the function the migrations build, a new
function and a changed argument list (write those by hand).

  FUNCTION               a function name (its source is SOURCES/FUNCTION.sql)
                         or the path of a source file
  NAME                   the pair's name: lowercase letters, digits, "_"
  --migrations-dir DIR   default: the repository's migrations/
  --sources-dir DIR      default: the repository's sql/functions/
  --database-url URL     a server to build the scratch database on (created
                         and dropped; the role needs CREATEDB). Default: a
                         throwaway embedded PostgreSQL in the temp directory
  -h, --help             show this help`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      'migrations-dir': { type: 'string' },
      'sources-dir': { type: 'string' },
      'database-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const [fn, name, ...rest] = positionals;
  if (fn === undefined || name === undefined || rest.length > 0) throw new ScriptUsageError(`expected FUNCTION and NAME, got ${positionals.length} argument(s)`);
  if (!NAME.test(name)) throw new ScriptUsageError(`NAME "${name}" must be lowercase letters, digits and underscores, starting with a letter (e.g. verify_email_locale)`);
  const sourcePath = fn.endsWith('.sql') ? resolve(fn) : join(resolve(values['sources-dir'] ?? FUNCTION_SOURCES_DIR), `${fn}.sql`);
  const source = await readFunctionSource(sourcePath);
  const pair = await generateFunctionMigration({
    source,
    name,
    migrationsDir: resolve(values['migrations-dir'] ?? DEFAULT_MIGRATIONS_DIR),
    databaseUrl: values['database-url'] ?? undefined,
  });
  console.log(pair.up);
  console.log(pair.down);
  console.error(`review what the up file changes (before: as the migrations build it, after: the source):\n${pair.changes.join('\n')}`);
  return 0;
}

runScriptMain(main, HELP);
