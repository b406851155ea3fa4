import type pg from 'pg';
import type { ConnectionSource } from '../connection/connection-source.js';
import { withClient } from '../connection/open-client.js';
import { DEFAULT_MIGRATIONS_DIR } from '../migrate/migration-source.js';
import { DEFAULT_DDL_LOCK_TIMEOUT_MS, DEFAULT_LOCK_TIMEOUT_MS, Migrator } from '../migrate/migrator.js';
import { describeHolder } from '../migrate/advisory-lock.js';
import { formatMs, type Output } from './output.js';
import { ProgressLine } from './progress-line.js';
import { RunReporter, type RunReport } from './run-report.js';
import { CONNECTION_OPTIONS, CONNECTION_OPTIONS_LINES, connectionSettings, HELP_OPTION_LINE } from './connection-options.js';
import { applicationSources, SOURCE_OPTIONS, SOURCE_OPTIONS_LINES } from './source-option.js';
import { parseDuration, UsageError, type OptionSpec } from './usage.js';
import type { MigrationSourceSpec } from '../migrate/migration-file.js';

/** Options every `migrate` subcommand accepts. */
export const MIGRATE_OPTIONS = {
  ...CONNECTION_OPTIONS,
  'migrations-dir': { type: 'string' },
  ...SOURCE_OPTIONS,
  'lock-timeout': { type: 'string' },
  'ddl-lock-timeout': { type: 'string' },
} as const satisfies OptionSpec;

export const MIGRATE_OPTIONS_HELP = `Connection and engine options:
${CONNECTION_OPTIONS_LINES}
  --migrations-dir DIR     migration files (default: $AUTHDB_MIGRATIONS_DIR, else the
                           migrations shipped with authdb)
${SOURCE_OPTIONS_LINES}
  --lock-timeout DUR       wait this long for another run's migration lock (default: ${DEFAULT_LOCK_TIMEOUT_MS / 1000}s)
  --ddl-lock-timeout DUR   lock_timeout of migration statements (default: ${DEFAULT_DDL_LOCK_TIMEOUT_MS / 1000}s)
${HELP_OPTION_LINE}`;

/** Parsed, validated settings of a `migrate` subcommand. */
export interface MigrateSettings {
  readonly source: ConnectionSource;
  readonly schema: string;
  readonly migrationsDir: string;
  /** The application's migration directories, run after authdb's. */
  readonly applicationSources: readonly MigrationSourceSpec[];
  readonly lockTimeoutMs: number;
  readonly ddlLockTimeoutMs: number;
  /** The install's owner for the schema-trust check of read-only commands (`--owner`). Default is the connected role. */
  readonly owner?: string | undefined;
}

type MigrateValues = { readonly [K in Exclude<keyof typeof MIGRATE_OPTIONS, 'app-migrations'>]?: string | undefined } & {
  readonly 'app-migrations'?: readonly string[] | undefined;
};

export function migrateSettings(values: MigrateValues, env: NodeJS.ProcessEnv): MigrateSettings {
  return {
    ...connectionSettings(values, env),
    migrationsDir: values['migrations-dir'] ?? env.AUTHDB_MIGRATIONS_DIR ?? DEFAULT_MIGRATIONS_DIR,
    applicationSources: applicationSources(values['app-migrations'], env),
    lockTimeoutMs: values['lock-timeout'] === undefined ? DEFAULT_LOCK_TIMEOUT_MS : parseDuration('lock-timeout', values['lock-timeout']),
    ddlLockTimeoutMs:
      values['ddl-lock-timeout'] === undefined ? DEFAULT_DDL_LOCK_TIMEOUT_MS : parseDuration('ddl-lock-timeout', values['ddl-lock-timeout']),
  };
}

/**
 * Connects as the settings say and hands a migrator that reports progress to
 * `output`: a line per migration on stdout, or to `reporter` (`--json`).
 */
export function withMigrator<T>(
  settings: MigrateSettings,
  command: string,
  output: Output,
  work: (migrator: Migrator, client: pg.Client) => Promise<T>,
  reporter?: RunReporter,
): Promise<T> {
  const progress = new ProgressLine(output);
  return withClient(settings.source, { applicationName: `authdb ${command}`, log: (line) => { output.err(line); } }, (client, openSibling) => {
    const migrator = new Migrator({
      client,
      openProbeSession: openSibling,
      schema: settings.schema,
      migrationsDir: settings.migrationsDir,
      applicationSources: settings.applicationSources,
      lockTimeoutMs: settings.lockTimeoutMs,
      ddlLockTimeoutMs: settings.ddlLockTimeoutMs,
      owner: settings.owner,
      onEvent: (event) => {
        if (event.type === 'lock-wait') {
          output.err(
            `authdb: waiting up to ${formatMs(settings.lockTimeoutMs)} for the migration lock on schema "${settings.schema}"` +
              (event.holder ? ` (${describeHolder(event.holder)})` : ''),
          );
        } else if (event.type === 'progress') {
          if (!reporter) progress.show(event);
        } else if (event.type !== 'started') {
          if (reporter) reporter.record(event);
          else output.out(`${event.type === 'applied' ? output.color('green', 'applied ') : output.color('yellow', 'reverted')} ${event.name} (${formatMs(event.durationMs)})`);
        }
      },
    });
    return work(migrator, client);
  });
}

/** The help of `--json` for `up` and `down` ({@link withRunMigrator}). */
export const RUN_JSON_OPTION_LINES = `  --json        print one JSON document on stdout, on success and on failure:
                {command, schema, ok, migrations: [{name, direction, durationMs}],
                error?: {code, message}} (the per-file lines are left out; the
                exit code and stderr are as without it)`;

/**
 * {@link withMigrator} for `up` and `down`: with `--json`, the per-file lines
 * become one {@link RunReport} on stdout, printed on success and on failure.
 */
export function withRunMigrator(
  settings: MigrateSettings,
  command: RunReport['command'],
  output: Output,
  flags: { readonly json: boolean; readonly dryRun: boolean },
  work: (migrator: Migrator, client: pg.Client) => Promise<number>,
): Promise<number> {
  if (!flags.json) return withMigrator(settings, command, output, work);
  if (flags.dryRun) throw new UsageError('--json and --dry-run cannot be combined: --dry-run prints SQL');
  const reporter = new RunReporter(command, settings.schema);
  return reporter.around(output, () => withMigrator(settings, command, output, work, reporter));
}
