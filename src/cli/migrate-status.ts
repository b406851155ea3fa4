import { AUTHDB_SOURCE } from '../migrate/migration-file.js';
import type { MigrationStatus } from '../migrate/plan.js';
import { help, type Command } from './command.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, withMigrator } from './migrate-options.js';
import type { Output } from './output.js';
import { OWNER_OPTION, OWNER_OPTION_LINE } from './owner-option.js';
import { parseCommand } from './usage.js';

const OPTIONS = { ...MIGRATE_OPTIONS, ...OWNER_OPTION, json: { type: 'boolean' }, 'exit-code': { type: 'boolean' } } as const;

export const migrateStatus: Command = {
  help: `Usage: authdb migrate status [--json] [--exit-code] [options]

Lists every migration known to the files or to authdb_migrations, authdb's
first, then each --app-migrations source. Read-only. States:
  applied       applied, and its up file is unchanged
  pending       not applied yet
  out-of-order  not applied, but older than an applied migration of its source
                (\`migrate up\` refuses it without --allow-out-of-order)
  changed       applied, but its up file was edited since
  missing       applied, but its file is gone
  unloaded      applied by a source whose directory this run was not given
Exits 1 when any is changed, missing or out of order.

  --json        print an array of {name, source, state, appliedAt, checksum[, after]}
  --exit-code   also exit 1 while any migration is pending: a CI or deploy gate
                ("is this database up to date with these files?")
${OWNER_OPTION_LINE}

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = migrateSettings(values, env);
    return withMigrator({ ...settings, owner: values.owner }, 'migrate status', output, async (migrator) => {
      const statuses = await migrator.status();
      if (values.json) output.out(JSON.stringify(statuses, null, 2));
      else printTable(output, statuses, settings.schema);
      const failing = statuses.filter((s) => s.state === 'changed' || s.state === 'missing' || s.state === 'out-of-order');
      const pending = statuses.filter((s) => s.state === 'pending');
      if (values['exit-code'] && pending.length > 0 && failing.length === 0) {
        output.err(`authdb migrate status: ${pending.length} migration(s) pending in schema "${settings.schema}"; run \`authdb migrate up\``);
      }
      return failing.length > 0 || (values['exit-code'] === true && pending.length > 0) ? 1 : 0;
    });
  },
};

const STATE_COLOR = { applied: 'green', pending: 'yellow', 'out-of-order': 'red', changed: 'red', missing: 'red', unloaded: 'yellow' } as const;

function printTable(output: Output, statuses: readonly MigrationStatus[], schema: string): void {
  if (statuses.length === 0) {
    output.out(`no migrations found (schema "${schema}")`);
    return;
  }
  const width = Math.max(4, ...statuses.map((s) => s.name.length));
  // The SOURCE column appears once the history holds more than authdb's own.
  const sources = statuses.some((s) => s.source !== AUTHDB_SOURCE);
  const sourceWidth = Math.max(6, ...statuses.map((s) => s.source.length));
  const source = (text: string): string => (sources ? `${text.padEnd(sourceWidth)} ` : '');
  output.out(`${'STATE'.padEnd(12)} ${source('SOURCE')}${'NAME'.padEnd(width)}  APPLIED AT`);
  for (const s of statuses) {
    const note = s.state === 'out-of-order' ? `  (older than ${s.after ?? '?'}, which is applied)` : s.state === 'unloaded' ? `  (source "${s.source}" not given: --app-migrations ${s.source}=DIR)` : '';
    output.out(`${output.color(STATE_COLOR[s.state], s.state.padEnd(12))} ${source(s.source)}${s.name.padEnd(width)}  ${s.appliedAt?.toISOString() ?? '-'}${note}`);
  }
}
