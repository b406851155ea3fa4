import { validateMigrations } from '../contract/validate.js';
import { help, type Command } from './command.js';
import { withReadOnlyClient } from './connection-options.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings } from './migrate-options.js';
import { assertSchemaTrusted } from '../migrate/schema-trust.js';
import { OWNER_OPTION, OWNER_OPTION_LINE } from './owner-option.js';
import { parseCommand } from './usage.js';

const OPTIONS = { ...MIGRATE_OPTIONS, ...OWNER_OPTION, json: { type: 'boolean' } } as const;

export const migrateValidate: Command = {
  help: `Usage: authdb migrate validate [--json] [options]

Compares authdb_migrations with the migration files and reports, one per line:
  changed        an applied migration's up file was edited (checksum differs)
  missing-file   an applied migration's file was deleted or renamed
  unknown        the database applied a migration newer than every file
                 (a newer release or another branch migrated it)
  out-of-order   a pending migration sorts before an applied one of its source
  invalid-file   a misnamed or unpaired file in the migrations directory
Line-ending changes (CRLF/LF) are not changes. Read-only; exit 1 on any finding.

  --json        print an array of {kind, name, message}
${OWNER_OPTION_LINE}

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = migrateSettings(values, env);
    const findings = await withReadOnlyClient(settings.source, 'migrate validate', output, async (client) => {
      await assertSchemaTrusted(client, { schema: settings.schema, owner: values.owner });
      return validateMigrations({ client, schema: settings.schema, migrationsDir: settings.migrationsDir, applicationSources: settings.applicationSources });
    });
    if (values.json) output.out(JSON.stringify(findings, null, 2));
    else for (const f of findings) output.out(`${output.color('red', f.kind)}: ${f.message}`);
    output.err(
      findings.length === 0
        ? `authdb: the migration history of schema "${settings.schema}" matches ${[settings.migrationsDir, ...settings.applicationSources.map((s) => s.dir)].join(', ')}`
        : `authdb: ${findings.length} problem(s) in the migration history of schema "${settings.schema}"`,
    );
    return findings.length === 0 ? 0 : 1;
  },
};
