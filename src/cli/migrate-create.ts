import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DEFAULT_MIGRATIONS_DIR } from '../migrate/migration-source.js';
import { help, type Command } from './command.js';
import { assertProjectPath } from './project-path.js';
import { applicationSources, SOURCE_OPTIONS } from './source-option.js';
import { parseCommand, UsageError } from './usage.js';

const OPTIONS = { 'migrations-dir': { type: 'string' }, ...SOURCE_OPTIONS } as const;
const NAME = /^[a-z][a-z0-9_]*$/;

export const migrateCreate: Command = {
  help: `Usage: authdb migrate create NAME [--app-migrations DIR | --migrations-dir DIR]

Writes DIR/<UTC timestamp>_NAME.up.sql and the matching .down.sql, never
overwriting a file. NAME is lowercase letters, digits and underscores.

  --app-migrations [NAME=]DIR
                         the application's migration directory to write into
                         (default: the only one of $AUTHDB_APP_MIGRATIONS or the
                         configuration's appMigrations, when there is one)
  --migrations-dir DIR   write into this directory instead (default:
                         $AUTHDB_MIGRATIONS_DIR, else the migrations shipped with
                         authdb — in a checkout of authdb; an installed authdb
                         refuses to write into node_modules)
  -h, --help             show this help`,
  async run(argv, output, env) {
    const { values, positionals } = parseCommand(argv, OPTIONS, { min: 1, max: 1 });
    if (values.help) return help(output, this.help);
    const name = positionals[0] ?? '';
    if (!NAME.test(name)) throw new UsageError(`NAME "${name}" must be lowercase letters, digits and underscores, starting with a letter (e.g. add_user_locale)`);
    const dir = values['migrations-dir'] ?? applicationDir(values['app-migrations'], env) ?? env.AUTHDB_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR;
    assertProjectPath(dir, 'the new migration pair', PROJECT_DIR_FIX);
    const stem = `${timestamp(new Date())}_${name}`;
    await mkdir(dir, { recursive: true });
    const up = join(dir, `${stem}.up.sql`);
    const down = join(dir, `${stem}.down.sql`);
    await writeNewFile(up, template(stem, 'up'));
    await writeNewFile(down, template(stem, 'down')).catch(async (error: unknown) => {
      await rm(up);
      throw error;
    });
    output.out(relative(process.cwd(), up) || up);
    output.out(relative(process.cwd(), down) || down);
    return 0;
  },
};

const PROJECT_DIR_FIX =
  'pass --app-migrations DIR with a directory of your project, such as db/migrations, and apply it with authdb\'s own ' +
  '(authdb migrate up --app-migrations db/migrations; or set "appMigrations" in authdb.config.json): ' +
  'the application\'s migrations run after authdb\'s, in the same history';

/** The application's directory to write into: the one given, or the only one configured. */
function applicationDir(flag: readonly string[] | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const sources = applicationSources(flag, env);
  if (sources.length <= 1) return sources[0]?.dir;
  throw new UsageError(`several application migration directories are configured (${sources.map((s) => `${s.name}=${s.dir}`).join(', ')}); name the one to write into: --app-migrations DIR or --migrations-dir DIR`);
}

/** Writes `path`, failing (and never overwriting) when it exists. */
async function writeNewFile(path: string, text: string): Promise<void> {
  await writeFile(path, text, { flag: 'wx' }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new Error(`${path} already exists; authdb never overwrites a migration (wait a second or choose another NAME)`, { cause: error });
  });
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '').replace(/\D/g, '');
}

function template(stem: string, direction: 'up' | 'down'): string {
  return direction === 'up'
    ? `-- ${stem} (up)\n--\n-- What this migration does and why. Objects are created schema-unqualified:\n-- authdb runs it with search_path set to the target schema.\n-- First line "-- authdb:no-transaction" runs it outside a transaction\n-- (needed for CREATE INDEX CONCURRENTLY).\n\n`
    : `-- ${stem} (down)\n--\n-- Exactly undoes ${stem}.up.sql, in reverse order.\n\n`;
}
