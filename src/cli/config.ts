import { resolve } from 'node:path';
import { DEFAULT_DATABASE_TYPES_FILE } from '../codegen/database-types.js';
import { DEFAULT_CONTRACT_FILE } from '../contract/check.js';
import { DEFAULT_EMBEDDED_DIR } from '../embedded/cluster.js';
import { DEFAULT_MIGRATIONS_DIR } from '../migrate/migration-source.js';
import { DEFAULT_SCHEMA } from '../migrate/migrator.js';
import { help, type Command } from './command.js';
import { HELP_OPTION_LINE } from './connection-options.js';
import { CONFIG_FILE } from './config-file.js';
import { PROJECT_KEYS, resolveProjectSettings, type ProjectKey, type ValueSource } from './project-config.js';
import { applicationSources, SOURCE_OPTIONS } from './source-option.js';
import { parseCommand, type OptionSpec } from './usage.js';

const DEFAULTS: { readonly [K in ProjectKey]: string } = {
  schema: DEFAULT_SCHEMA,
  migrationsDir: DEFAULT_MIGRATIONS_DIR,
  appMigrations: '(none)',
  embeddedDir: resolve(DEFAULT_EMBEDDED_DIR),
  contract: DEFAULT_CONTRACT_FILE,
  typesOut: resolve(DEFAULT_DATABASE_TYPES_FILE),
};

/** The option of this command that stands for each key's flag. */
const FLAG_OPTION = { schema: 'schema', migrationsDir: 'migrations-dir', appMigrations: 'app-migrations', embeddedDir: 'embedded-dir', contract: 'contract', typesOut: 'out' } as const satisfies {
  readonly [K in ProjectKey]: string;
};

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  schema: { type: 'string' },
  'migrations-dir': { type: 'string' },
  ...SOURCE_OPTIONS,
  'embedded-dir': { type: 'string' },
  contract: { type: 'string' },
  out: { type: 'string' },
} as const satisfies OptionSpec;

export const config: Command = {
  help: `Usage: authdb config [--config FILE] [--json] [--schema NAME] [--migrations-dir DIR]
                     [--embedded-dir DIR] [--contract FILE] [--out FILE]

Prints the value each command uses when its flag is not given, and its source:
the environment variable, the configuration file, or the default. Precedence:
flag > environment variable > file > default.

  --config FILE   the configuration file (default: ${CONFIG_FILE} in the working
                  directory; every command accepts --config). Keys: ${Object.keys(PROJECT_KEYS).join(', ')};
                  relative paths resolve against the file's directory
  --json          one JSON object: { file, settings: { KEY: { value, source } } }
  --schema, --migrations-dir, --app-migrations, --embedded-dir, --contract, --out
                  show the value as a command given that flag would use it
${HELP_OPTION_LINE}

${Object.entries(PROJECT_KEYS)
  .map(([key, spec]) => `  ${key.padEnd(14)} flag ${spec.flag}, variable ${spec.env}`)
  .join('\n')}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const project = resolveProjectSettings(env, process.cwd(), values.config);
    const rows = (Object.keys(PROJECT_KEYS) as ProjectKey[]).map((key) => {
      const given = values[FLAG_OPTION[key]];
      const flag = typeof given === 'string' || given === undefined ? given : applicationSources(given, {}).map((s) => `${s.name}=${s.dir}`).join(',');
      if (flag !== undefined) return { key, value: PROJECT_KEYS[key].path ? resolve(flag) : flag, source: `flag ${PROJECT_KEYS[key].flag}` };
      const found = project.values[key];
      return { key, value: found?.value ?? DEFAULTS[key], source: describeSource(found?.source ?? { kind: 'default' }) };
    });
    if (values.json) {
      output.out(JSON.stringify({ file: project.file, settings: Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }])) }, null, 2));
    } else {
      for (const row of rows) output.out(`${row.key.padEnd(14)} ${row.value}  (${row.source})`);
    }
    return Promise.resolve(0);
  },
};

function describeSource(source: ValueSource): string {
  if (source.kind === 'env') return `env ${source.name}`;
  if (source.kind === 'file') return `file ${source.file}`;
  return 'default';
}
