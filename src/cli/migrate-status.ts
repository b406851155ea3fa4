import type { MigrationStatus } from '../migrate/plan.js';
import { help, type Command } from './command.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, withMigrator } from './migrate-options.js';
import type { Output } from './output.js';
import { OWNER_OPTION, OWNER_OPTION_LINE } from './owner-option.js';
import { parseCommand } from './usage.js';

const OPTIONS = { ...MIGRATE_OPTIONS, ...OWNER_OPTION, json: { type: 'boolean' } } as const;

export const migrateStatus: Command = {
  name: 'migrate status',
  summary: 'show applied, pending, changed and missing migrations',
  help: `Usage: authdb migrate status [--json] [options]

Lists every migration known to the files or to authdb_migrations. Read-only.
States: applied, pending, changed (up file edited since it was applied),
missing (applied, but its file is gone). Exits 1 when any is changed or missing.

  --json        print an array of {name, state, appliedAt, checksum}
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
      return statuses.some((s) => s.state === 'changed' || s.state === 'missing') ? 1 : 0;
    });
  },
};

const STATE_COLOR = { applied: 'green', pending: 'yellow', changed: 'red', missing: 'red' } as const;

function printTable(output: Output, statuses: readonly MigrationStatus[], schema: string): void {
  if (statuses.length === 0) {
    output.out(`no migrations found (schema "${schema}")`);
    return;
  }
  const width = Math.max(4, ...statuses.map((s) => s.name.length));
  output.out(`${'STATE'.padEnd(8)} ${'NAME'.padEnd(width)}  APPLIED AT`);
  for (const s of statuses) {
    output.out(`${output.color(STATE_COLOR[s.state], s.state.padEnd(8))} ${s.name.padEnd(width)}  ${s.appliedAt?.toISOString() ?? '-'}`);
  }
}
