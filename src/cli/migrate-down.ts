import type { DownTarget } from '../migrate/plan.js';
import { help, type Command } from './command.js';
import { printPlan } from './dry-run.js';
import { withInterruptHandling } from './interrupt.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, RUN_JSON_OPTION_LINES, withRunMigrator } from './migrate-options.js';
import { parseCommand, parsePositiveInteger, UsageError } from './usage.js';

const OPTIONS = {
  ...MIGRATE_OPTIONS,
  steps: { type: 'string' },
  to: { type: 'string' },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  force: { type: 'boolean' },
} as const;

export const migrateDown: Command = {
  help: `Usage: authdb migrate down [--steps N | --to NAME | --all] [--dry-run] [--json] [options]

Reverts applied migrations, the most recently applied first (across authdb's
and the application's sources: an application migration applied after an
authdb upgrade is reverted before it), each with its down file in its own
transaction together with the removal of its authdb_migrations row. A
migration of a source this run was not given (--app-migrations) is never
skipped: the run is refused instead.

  --steps N     revert the N most recently applied migrations (default: 1)
  --to NAME     revert every migration applied after NAME; NAME stays applied
  --all         revert every applied migration
  --dry-run     print the SQL that would run, in order, and the tables and
                columns it would drop that hold rows; change nothing
  --force       drop tables and columns that hold data; without it such a
                run is refused (AUTHDB_DOWN_DATA) before anything is reverted.
                authdb's own seed rows (the roles 0001 inserts) do not count
${RUN_JSON_OPTION_LINES}

Ctrl-C (SIGINT) or SIGTERM cancels the running statement, rolls its migration
back, releases the lock and exits 130/143; migrations already reverted stay so.
A second signal exits at once.

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const target = downTarget(values);
    const settings = migrateSettings(values, env);
    const flags = { json: values.json ?? false, dryRun: values['dry-run'] ?? false };
    return withRunMigrator(settings, 'migrate down', output, flags, async (migrator, client) => {
      const run = await withInterruptHandling(migrator, client, output, () =>
        migrator.down({ target, dryRun: values['dry-run'] ?? false, force: values.force ?? false }),
      );
      if (run.planned) printPlan(output, run.planned, settings.schema, run.dataAtRisk);
      else output.err(`authdb: ${run.names.length === 0 ? 'nothing to revert' : `reverted ${run.names.length} migration(s)`} (schema "${settings.schema}")`);
      return 0;
    });
  },
};

function downTarget(values: { steps?: string; to?: string; all?: boolean }): DownTarget {
  const chosen = [values.steps !== undefined && '--steps', values.to !== undefined && '--to', values.all && '--all'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`${chosen.join(' and ')} cannot be combined; choose one`);
  if (values.all) return { all: true };
  if (values.to !== undefined) return { to: values.to };
  return { steps: values.steps === undefined ? 1 : parsePositiveInteger('steps', values.steps) };
}
