import type pg from 'pg';
import { loadApplicationObjects } from '../contract/application-objects.js';
import { baselineDrift, expectedSchema } from '../contract/baseline.js';
import { BASELINE_SCRATCH_PREFIX, withScratchDatabase } from '../contract/scratch-database.js';
import type { MigrationFile } from '../migrate/migration-file.js';
import { help, type Command } from './command.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, withMigrator, type MigrateSettings } from './migrate-options.js';
import { withScratchUrl } from './migrate-verify-reversible.js';
import type { Output } from './output.js';
import { parseCommand } from './usage.js';

const OPTIONS = {
  ...MIGRATE_OPTIONS,
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'scratch-url': { type: 'string' },
} as const;
const COMMAND = 'migrate baseline';

export const migrateBaseline: Command = {
  help: `Usage: authdb migrate baseline [--to NAME] [--dry-run] [--scratch-url URL] [options]

For an install of authdb made another way (its files applied by hand, a
restored dump): records authdb's migrations, up to and including --to NAME
(default: all of them), as applied, without running them, but only after
proving the schema already holds exactly what they create. They are applied
to a scratch database, and its schema is compared with the target's (every
table, column, constraint, index, function, trigger, grant and seeded row);
any difference is listed, nothing is recorded and the exit code is 1
(AUTHDB_BASELINE_DRIFT). Objects the --app-migrations files create are the
application's and not counted.

On success the rows (source authdb, the files' checksums) are inserted in one
transaction, under the schema's migration lock. Refused when the history
already records any of them (apply what is pending with \`authdb migrate up\`),
and when the schema is controlled by another role (AUTHDB_SCHEMA_TRUST).

Tables of your own that only share the names (hand-made users) are not an
install: rename them and install beside them (README: "Adopting an existing
database").

  --to NAME          record authdb's migrations up to and including NAME;
                     \`authdb migrate up\` applies the rest
  --dry-run          prove the same and print what would be recorded;
                     record nothing
  --scratch-url URL  build the expected schema in this existing, empty
                     database (left in place) instead of creating
                     ${BASELINE_SCRATCH_PREFIX}<random> (which needs CREATEDB, and is dropped)

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = migrateSettings(values, env);
    const app = await loadApplicationObjects(settings.applicationSources);
    const dryRun = values['dry-run'] ?? false;
    return withMigrator(settings, COMMAND, output, async (migrator, client) => {
      const prove = async (files: readonly MigrationFile[]): Promise<Awaited<ReturnType<typeof baselineDrift>>> => {
        const expected = await onScratch(client, settings, values['scratch-url'], output, (scratch) =>
          expectedSchema({ scratch, schema: settings.schema, files, migrationsDir: settings.migrationsDir, ddlLockTimeoutMs: settings.ddlLockTimeoutMs }),
        );
        return baselineDrift(client, settings.schema, expected, app);
      };
      const run = await migrator.baseline({ to: values.to, dryRun, prove });
      report(output, run.names, settings.schema, dryRun);
      return 0;
    });
  },
};

/** Runs `work` on a created scratch database (dropped afterwards), or on the one `--scratch-url` names. */
function onScratch<T>(admin: pg.Client, settings: MigrateSettings, scratchUrl: string | undefined, output: Output, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (scratchUrl !== undefined) return withScratchUrl(scratchUrl, settings, work, output);
  return withScratchDatabase({ admin, source: settings.source, applicationName: `authdb ${COMMAND}`, prefix: BASELINE_SCRATCH_PREFIX }, (client, name) => {
    output.err(`authdb: building the expected schema in scratch database ${name} (dropped afterwards)`);
    return work(client);
  });
}

function report(output: Output, names: readonly string[], schema: string, dryRun: boolean): void {
  const verb = dryRun ? 'would record' : 'recorded';
  for (const name of names) output.out(`${output.color('green', verb)} ${name}`);
  output.err(
    `authdb: schema "${schema}" holds exactly what ${names.length} migration(s) create; ${verb} them as applied (source authdb)` +
      (dryRun ? '; dry run, nothing was recorded' : ''),
  );
}
