import { DEFAULT_SUPABASE_MIGRATIONS_DIR, exportSupabaseMigrations } from '../export/supabase-export.js';
import { DEFAULT_MIGRATIONS_DIR } from '../migrate/migration-source.js';
import { DEFAULT_SCHEMA } from '../migrate/migrator.js';
import { help, type Command } from './command.js';
import { HELP_OPTION_LINE, schemaSetting } from './connection-options.js';
import { assertProjectPath } from './project-path.js';
import { parseCommand, UsageError } from './usage.js';

const OPTIONS = { out: { type: 'string' }, schema: { type: 'string' }, 'migrations-dir': { type: 'string' } } as const;

export const exportSupabase: Command = {
  help: `Usage: authdb export supabase [--out DIR] [--schema NAME] [--migrations-dir DIR]

Writes each of authdb's migrations (up only) as a Supabase CLI migration file,
DIR/<version>_<name>.sql, keeping its 14-digit version, so that supabase db push
applies them in order and an export after an authdb upgrade adds only the new
files. Connects to no database.

supabase db push does not run authdb's engine, so each file carries its
protections in its SQL: it takes the schema's migration lock, refuses a schema
another role controls (Supabase Auth's auth, say), creates the schema and
authdb_migrations when missing, sets the search_path authdb migrate up sets,
takes back what default privileges gave (on Supabase: anon, authenticated,
service_role), grants nothing, and records the migration in authdb_migrations
as authdb migrate up does. Afterwards authdb migrate status, validate and
schema check work on that database as on one authdb migrate up installed, and
a later authdb migrate up (or export and push) applies only what is new.
Then give the backend's role the API: authdb grant --role service_role --schema NAME.

A file already in DIR with the same bytes is left alone (up to date); one with
other bytes, or another file of the same version, is refused, naming it, and
nothing is written. New files are written beside their names and renamed into
place, all or none.

  --out DIR              where to write (default: ${DEFAULT_SUPABASE_MIGRATIONS_DIR}, created when missing)
  --schema NAME          the schema to install into (default: $AUTHDB_SCHEMA, else
                         ${DEFAULT_SCHEMA}; on Supabase use a schema of authdb's own, such as authdb:
                         auth is Supabase Auth's); pass the same --schema to the other commands
  --migrations-dir DIR   authdb's migrations (default: $AUTHDB_MIGRATIONS_DIR, else the
                         migrations shipped with authdb)
${HELP_OPTION_LINE}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const out = values.out ?? DEFAULT_SUPABASE_MIGRATIONS_DIR;
    if (out.trim() === '') throw new UsageError('--out: names no directory');
    const schema = schemaSetting(values.schema, env);
    assertProjectPath(out, 'the Supabase migrations', `pass --out DIR with your Supabase project's migrations directory, such as ${DEFAULT_SUPABASE_MIGRATIONS_DIR}`);
    const migrationsDir = values['migrations-dir'] ?? env.AUTHDB_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR;
    const outcome = await exportSupabaseMigrations(out, { schema, migrationsDir });
    for (const name of outcome.upToDate) output.out(`${output.color('dim', 'up to date')} ${name}`);
    for (const name of outcome.written) output.out(`${output.color('green', 'wrote     ')} ${name}`);
    output.err(
      `authdb: ${outcome.written.length === 0 ? 'nothing to write' : `wrote ${outcome.written.length} migration(s)`}, ${outcome.upToDate.length} up to date, in ${out} (schema "${schema}")` +
        (outcome.written.length === 0 ? '' : '; apply them with supabase db push'),
    );
    return 0;
  },
};
