import { mkdir, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import type pg from 'pg';
import { help, type Command } from './command.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, withMigrator } from './migrate-options.js';
import type { Output } from './output.js';
import { OWNER_OPTION, OWNER_OPTION_LINE } from './owner-option.js';
import { assertProjectPath } from './project-path.js';
import { parseCommand } from './usage.js';
import { isApplicationObject, loadApplicationObjects } from '../contract/application-objects.js';
import type { MigrationStatus } from '../migrate/plan.js';
import { writeOutputFile } from './write-output-file.js';

const OPTIONS = { ...MIGRATE_OPTIONS, ...OWNER_OPTION, out: { type: 'string' }, check: { type: 'boolean' } } as const;

export const codegen: Command = {
  help: `Usage: authdb codegen [--out FILE] [--check] [options]

Introspects the authdb tables of the target schema (every table except
authdb_migrations) with kysely-codegen and writes their Kysely types:
Database, Users, EmailVerificationTokens, Roles. The output does not depend
on the schema name and is deterministic. Every migration must be applied
first (\`authdb migrate up\`), so the types describe the migrations.

With --app-migrations, the types stay authdb's: tables the application's
migrations create and columns they add to authdb's tables are left out.
Generate the application's own types with kysely-codegen and combine them
(interface AppDatabase extends Database { profiles: Profiles }).

  --out FILE    file of your project to write or check (default:
                $AUTHDB_TYPES_OUT, else src/authdb/database-types.ts in the
                working directory;
                never a file inside node_modules)
  --check       do not write; exit 1 and print a diff (- file, + database)
                when FILE is stale, exit 0 when it is up to date
${OWNER_OPTION_LINE}

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = migrateSettings(values, env);
    // Loaded here, not at the top: kysely-codegen is only needed by this command.
    const { DEFAULT_DATABASE_TYPES_FILE, CODEGEN_COMMAND, diffDatabaseTypes, generateDatabaseTypes } = await import('../codegen/database-types.js');
    const file = resolve(values.out ?? env.AUTHDB_TYPES_OUT ?? DEFAULT_DATABASE_TYPES_FILE);
    const shown = displayPath(file);
    if (!values.check) assertProjectPath(file, 'the generated types', 'pass --out FILE with a file of your project, such as src/authdb/database-types.ts');
    return withMigrator({ ...settings, owner: values.owner }, 'codegen', output, async (migrator, client) => {
      const problem = unappliedProblem(await migrator.status(), settings.schema);
      if (problem !== undefined) {
        output.err(`authdb codegen: error: ${problem}`);
        return 1;
      }
      const app = await loadApplicationObjects(settings.applicationSources);
      const isAuthdbObject = (table: string, column?: string): boolean =>
        app === undefined || !isApplicationObject(column === undefined ? `table ${table}` : `column ${table}.${column}`, {}, app);
      const generated = await generateDatabaseTypes({ db: singleClientKysely(client), schema: settings.schema, isAuthdbObject });
      if (!values.check) {
        await mkdir(dirname(file), { recursive: true });
        await writeOutputFile(file, generated);
        output.err(`authdb: wrote ${shown} from schema "${settings.schema}"`);
        return 0;
      }
      const committed = await readFile(file, 'utf8').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      });
      if (committed === undefined) {
        output.err(`authdb codegen --check: ${shown} does not exist; run \`${CODEGEN_COMMAND} --out ${shown}\` to create it`);
        return 1;
      }
      const diff = diffDatabaseTypes(committed, generated);
      if (diff === undefined) {
        output.err(`authdb: ${shown} is up to date with schema "${settings.schema}"`);
        return 0;
      }
      output.err(`authdb codegen --check: ${shown} is stale: it does not match the tables of schema "${settings.schema}".`);
      printDiff(output, shown, diff);
      output.err(`Regenerate it with \`${CODEGEN_COMMAND}\` (against a freshly migrated database) and commit the result.`);
      return 1;
    });
  },
};

/** Why the schema does not describe the migrations yet, if it does not. */
function unappliedProblem(statuses: readonly MigrationStatus[], schema: string): string | undefined {
  const unloaded = [...new Set(statuses.filter((s) => s.state === 'unloaded').map((s) => s.source))];
  if (unloaded.length > 0) {
    return (
      `the history of schema "${schema}" records migrations of source ${unloaded.map((s) => `"${s}"`).join(', ')}, which this run was not given; ` +
      'pass the application\'s directories (--app-migrations NAME=DIR, as for migrate up) so the types leave the application\'s objects out'
    );
  }
  const unapplied = statuses.filter((s) => s.state !== 'applied');
  if (unapplied.length === 0) return undefined;
  return (
    `schema "${schema}" does not match the migrations (${unapplied.map((s) => `${s.name}: ${s.state}`).join(', ')}); ` +
    'run `authdb migrate up` (or use a freshly migrated database) so the types describe the migrations'
  );
}

/** Relative to the working directory when the file is below it, else absolute. */
function displayPath(file: string): string {
  const path = relative(process.cwd(), file);
  return path === '' || path.startsWith('..') || isAbsolute(path) ? file : path;
}

function printDiff(output: Output, file: string, diff: string): void {
  output.out(`--- ${file} (committed)`);
  output.out('+++ generated from the database');
  for (const line of diff.trimEnd().split('\n')) {
    output.out(line.startsWith('+') ? output.color('green', line) : line.startsWith('-') ? output.color('red', line) : line);
  }
}

/**
 * A Kysely over one connected client, for the introspection queries.
 * Connections are handed out one at a time (kysely-codegen introspects in
 * parallel, and a pg client must not run overlapping queries); destroying
 * the Kysely leaves the client open.
 */
function singleClientKysely(client: pg.Client): Kysely<unknown> {
  let previousReleased = Promise.resolve();
  const pool: PostgresPool = {
    connect: () => {
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const granted = previousReleased.then(() => Object.assign(client, { release }));
      previousReleased = released;
      return granted;
    },
    end: () => Promise.resolve(),
  };
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
}
