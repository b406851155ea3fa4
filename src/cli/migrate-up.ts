import { explainEngineTimeout } from '../migrate/engine-timeout.js';
import { listMigrations } from '../migrate/migration-source.js';
import { otherInstalls, SecondInstallError } from '../migrate/other-installs.js';
import { help, type Command } from './command.js';
import { printPlan } from './dry-run.js';
import { withInterruptHandling } from './interrupt.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, RUN_JSON_OPTION_LINES, withRunMigrator } from './migrate-options.js';
import { parseCommand } from './usage.js';

const OPTIONS = {
  ...MIGRATE_OPTIONS,
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  'allow-second-install': { type: 'boolean' },
  'allow-out-of-order': { type: 'boolean' },
} as const;

export const migrateUp: Command = {
  help: `Usage: authdb migrate up [--to NAME] [--dry-run] [--json] [options]

Applies pending migrations, authdb's first, then each --app-migrations source's,
each source in name order, each migration in its own transaction together with
its row in authdb_migrations. Holds a session advisory lock on the target
schema, so concurrent runs wait for each other. Refuses to run when an applied
migration's file was edited or removed, and when a pending migration is older
than an applied one of its source (AUTHDB_OUT_OF_ORDER).

  --to NAME     stop after applying NAME
  --dry-run     print the SQL that would run, in order, and change nothing
  --allow-out-of-order
                apply pending migrations older than an applied one of their
                source, in name order after the others of the run
  --allow-second-install
                create a new install in --schema even though another schema
                of the database holds one of the same migrations (without it
                such a run is refused: AUTHDB_SECOND_INSTALL)
${RUN_JSON_OPTION_LINES}

Ctrl-C (SIGINT) or SIGTERM cancels the running statement, rolls its migration
back, releases the lock and exits 130/143; migrations already applied stay so.
A second signal exits at once.

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = migrateSettings(values, env);
    const flags = { json: values.json ?? false, dryRun: values['dry-run'] ?? false };
    return withRunMigrator(settings, 'migrate up', output, flags, async (migrator, client) => {
      if (!values['allow-second-install']) {
        // Names only: reading and decoding the files is the run's to do.
        const names = (await listMigrations(settings.migrationsDir)).map((f) => f.name);
        const existing = await otherInstalls(client, settings.schema, names).catch(async (error: unknown) => {
          throw await explainEngineTimeout(client, error, 'looking for other installs of authdb in this database (the authdb_migrations tables of other schemas)');
        });
        if (existing.length > 0) throw new SecondInstallError(settings.schema, existing);
      }
      const run = await withInterruptHandling(migrator, client, output, () =>
        migrator.up({ to: values.to, allowOutOfOrder: values['allow-out-of-order'] ?? false, dryRun: values['dry-run'] ?? false }),
      );
      if (run.planned) printPlan(output, run.planned, settings.schema);
      else output.err(`authdb: ${run.names.length === 0 ? 'nothing to apply, schema is up to date' : `applied ${run.names.length} migration(s)`} (schema "${settings.schema}")`);
      return 0;
    });
  },
};
