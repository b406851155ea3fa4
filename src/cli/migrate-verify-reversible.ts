import pg from 'pg';
import { formatDrift } from '../contract/format-drift.js';
import { REVERSIBILITY_WORDING, verifyReversible, type ReversibilityResult } from '../contract/reversible.js';
import { SCRATCH_PREFIX, withScratchDatabase } from '../contract/scratch-database.js';
import { redactUrl } from '../connection/connection-source.js';
import { withClient } from '../connection/open-client.js';
import { help, type Command } from './command.js';
import { checkDatabaseUrl } from './connection-options.js';
import { MIGRATE_OPTIONS, MIGRATE_OPTIONS_HELP, migrateSettings, type MigrateSettings } from './migrate-options.js';
import type { Output } from './output.js';
import { parseCommand } from './usage.js';

const OPTIONS = { ...MIGRATE_OPTIONS, 'scratch-url': { type: 'string' }, 'keep-scratch': { type: 'boolean' } } as const;
const COMMAND = 'migrate verify-reversible';

export const migrateVerifyReversible: Command = {
  help: `Usage: authdb migrate verify-reversible [--scratch-url URL] [--keep-scratch] [options]

On a scratch database, for every migration in order: takes a snapshot of the
schema (as \`authdb schema dump\` does), applies the up file, applies the down
file, and requires the snapshot to equal the first one; then applies the up
file again and requires the schema to equal the first up. Stops at the first
migration that fails and prints the differences. Exit 1 on failure.

The scratch database is ${SCRATCH_PREFIX}<random>, created from template0 on the
server of --database-url (the role needs CREATEDB) and dropped afterwards, even
on failure. The database --database-url names is not touched.

  --scratch-url URL   use this existing, empty database instead (not dropped)
  --keep-scratch      do not drop the created scratch database (to inspect it)

${MIGRATE_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = migrateSettings(values, env);
    const verify = (client: pg.ClientBase): Promise<ReversibilityResult> =>
      verifyReversible({
        client,
        schema: settings.schema,
        migrationsDir: settings.migrationsDir,
        applicationSources: settings.applicationSources,
        ddlLockTimeoutMs: settings.ddlLockTimeoutMs,
        onVerified: (name) => {
          output.out(`${output.color('green', 'reversible')} ${name}`);
        },
      });
    const scratchUrl = values['scratch-url'];
    const result =
      scratchUrl === undefined
        ? await withClient(settings.source, { applicationName: `authdb ${COMMAND}`, log: output.err }, (admin) =>
            withScratchDatabase({ admin, source: settings.source, applicationName: `authdb ${COMMAND}`, keep: values['keep-scratch'] ?? false }, (client, name) => {
              output.err(`authdb: scratch database ${name}${values['keep-scratch'] ? ' (kept afterwards)' : ' (dropped afterwards)'}`);
              return verify(client);
            }),
          )
        : await withScratchUrl(scratchUrl, settings, verify, output);
    return report(result, settings, output);
  },
};

/** Runs `work` on the existing database `--scratch-url` names, left in place. */
export async function withScratchUrl<T>(url: string, settings: MigrateSettings, work: (client: pg.ClientBase) => Promise<T>, output: Output): Promise<T> {
  checkDatabaseUrl('--scratch-url', url);
  output.err(`authdb: scratch database ${redactUrl(url)} (given with --scratch-url; left in place)`);
  const { connectTimeoutMs } = settings.source;
  const source = { kind: 'url', url, origin: '--scratch-url', ...(connectTimeoutMs !== undefined && { connectTimeoutMs }) } as const;
  return withClient(source, { applicationName: `authdb ${COMMAND}`, log: output.err }, work);
}

function report(result: ReversibilityResult, settings: MigrateSettings, output: Output): number {
  if (result.ok) {
    output.err(`authdb: all ${result.verified.length} migration(s) in ${[settings.migrationsDir, ...settings.applicationSources.map((s) => s.dir)].join(', ')} are reversible (schema "${settings.schema}")`);
    return 0;
  }
  const { name, upPath, downPath } = result;
  if (result.problem === 'error') {
    output.out(`${output.color('red', 'FAILED')} ${name}: ${result.error instanceof Error ? result.error.message : String(result.error)}`);
    output.out(`Fix the file named above; every migration must apply and revert cleanly on an empty database.`);
  } else {
    const what =
      result.problem === 'down-not-restoring'
        ? `its down file does not restore the schema as it was before its up file\n  up:   ${upPath}\n  down: ${downPath}\nDifferences between the schema before up and after up + down:`
        : `applying it again after its down file does not give the schema its first up gave (the down file leaves something behind that the up file then skips or changes)\n  up:   ${upPath}\n  down: ${downPath}\nDifferences between the schema after the first up and after up + down + up:`;
    output.out(`${output.color('red', 'NOT REVERSIBLE')} ${name}: ${what}`);
    for (const line of formatDrift(result.drifts, REVERSIBILITY_WORDING[result.problem])) output.out(line);
    output.out(`\nMake ${downPath} undo exactly what ${upPath} does (drop what it creates, restore what it drops or alters).`);
  }
  output.err(`authdb: ${name} is not reversible; ${result.verified.length} migration(s) before it passed`);
  return 1;
}
