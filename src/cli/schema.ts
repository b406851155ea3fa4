import { checkContract, DEFAULT_CONTRACT_FILE, readContractFile } from '../contract/check.js';
import { formatDrift } from '../contract/format-drift.js';
import { serializeSnapshot, takeSnapshot } from '../contract/snapshot.js';
import { help, type Command } from './command.js';
import { connectionSettings, CONNECTION_OPTIONS, CONNECTION_OPTIONS_HELP, withReadOnlyClient } from './connection-options.js';
import { assertSchemaTrusted } from '../migrate/schema-trust.js';
import { OWNER_OPTION, OWNER_OPTION_LINE } from './owner-option.js';
import { assertProjectPath, isInsideInstalledPackage } from './project-path.js';
import { applicationSources, SOURCE_OPTIONS } from './source-option.js';
import { parseCommand } from './usage.js';
import { loadApplicationObjects, type ApplicationObjects } from '../contract/application-objects.js';
import { writeOutputFile } from './write-output-file.js';

/** Where the drift hint of `schema check` suggests dumping a contract of the user's own, when the checked one is the installed package's. */
export const PROJECT_CONTRACT_FILE = 'authdb-contract.json';

const CONTENTS = `The contract covers the target schema: tables and columns (type, nullability,
default, identity, generated), constraints, indexes, functions (signature,
result, language, volatility, SECURITY DEFINER, settings such as search_path,
body and its SHA-256), triggers, grants, row-level security and policies,
comments, sequences, enums, domains, views, and the rows of the seeded roles
table. It leaves out objects owned by extensions (pgcrypto) and authdb's own
authdb_migrations table. The schema's name is written as <schema> and the role
that ran the migrations (owner of authdb_migrations) as <owner>, so a contract
taken in one schema or as one role checks an install in any other.`;

export const schemaDump: Command = {
  help: `Usage: authdb schema dump [--out FILE] [options]

Writes a canonical, deterministic description of the target schema as JSON:
one entry per object, keys sorted, so the same schema always gives the same
bytes and a change shows up as a small diff. Read-only.

${CONTENTS}

  --out FILE    write to FILE instead of stdout (e.g. ${PROJECT_CONTRACT_FILE}; never a
                file inside node_modules); a new file renamed over FILE, never
                written through a symlink

${CONNECTION_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, { ...CONNECTION_OPTIONS, out: { type: 'string' } }, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = connectionSettings(values, env);
    if (values.out !== undefined) assertProjectPath(values.out, 'the contract', `pass --out FILE with a file of your project, such as ${PROJECT_CONTRACT_FILE}`);
    const snapshot = await withReadOnlyClient(settings.source, 'schema dump', output, (client) => takeSnapshot(client, { schema: settings.schema }));
    const text = serializeSnapshot(snapshot);
    if (values.out === undefined) output.out(text.trimEnd());
    else {
      await writeOutputFile(values.out, text);
      output.err(`authdb: wrote the contract of schema "${settings.schema}" (${Object.keys(snapshot.objects).length} objects) to ${values.out}`);
    }
    return 0;
  },
};

export const schemaCheck: Command = {
  help: `Usage: authdb schema check [--contract FILE] [--json] [--ignore-extra-rows] [options]

Compares the live schema with a contract written by \`authdb schema dump\` and
prints every difference, one object per block:
  + KEY   in the database, not in the contract
  - KEY   in the contract, missing from the database
  ~ KEY   in both, with fields that differ (contract value → database value)
Exits 0 when they match, 1 on drift.

It never writes: the session is read-only (default_transaction_read_only) and
the snapshot runs in a READ ONLY transaction, so it is safe against production
as a role with read privileges only (it needs SELECT on the roles table, whose
seeded rows are part of the contract).

${CONTENTS}

  --contract FILE       the contract (default: $AUTHDB_CONTRACT, else the contract
                        shipped with authdb, ${DEFAULT_CONTRACT_FILE})
  --json                print {equal, schema, contract, summary, drifts} as JSON
  --ignore-extra-rows   rows added to the seeded tables (roles created by an
                        operator) are not drift
  --app-migrations [NAME=]DIR
                        the application's own migrations in this schema (repeatable;
                        default: $AUTHDB_APP_MIGRATIONS): what their up files create —
                        tables, functions, indexes, triggers, policies, columns and
                        named constraints added to authdb's tables, rows inserted into
                        its seeded tables — is the application's, not drift
${OWNER_OPTION_LINE}

${CONNECTION_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const options = { ...CONNECTION_OPTIONS, ...OWNER_OPTION, ...SOURCE_OPTIONS, contract: { type: 'string' }, json: { type: 'boolean' }, 'ignore-extra-rows': { type: 'boolean' } } as const;
    const { values } = parseCommand(argv, options, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    const settings = connectionSettings(values, env);
    const file = values.contract ?? env.AUTHDB_CONTRACT ?? DEFAULT_CONTRACT_FILE;
    const contract = await readContractFile(file);
    const sources = applicationSources(values['app-migrations'], env);
    const app = await loadApplicationObjects(sources);
    const result = await withReadOnlyClient(settings.source, 'schema check', output, async (client) => {
      await assertSchemaTrusted(client, { schema: settings.schema, owner: values.owner });
      return checkContract({ client, schema: settings.schema, contract, ignoreExtraRows: values['ignore-extra-rows'] ?? false, applicationObjects: app });
    });
    if (values.json) {
      output.out(JSON.stringify({ equal: result.equal, schema: settings.schema, contract: file, summary: result.summary, drifts: result.drifts }, null, 2));
    } else if (result.equal) {
      output.err(`authdb: schema "${settings.schema}" matches the contract ${file} (${Object.keys(contract.objects).length} objects)`);
    } else {
      const { added, missing, changed } = result.summary;
      output.out(`schema "${settings.schema}" does not match the contract ${file}: ${added} added, ${missing} missing, ${changed} changed`);
      output.out('(+ only in the database, - only in the contract, ~ changed: contract value → database value)\n');
      for (const line of formatDrift(result.drifts)) output.out(line);
      output.out(`\n${regenerateHint(file)}\n` +
          'If the contract is right, the database drifted (a manual change, or a migration missing or edited): restore the objects marked - and ~ and remove those marked +, with a new migration.' +
          applicationHint(app, result.summary.added),
      );
    }
    return result.equal ? 0 : 1;
  },
};

/** Objects marked + may be the application's own: say how to tell `schema check` which they are. */
function applicationHint(app: ApplicationObjects | undefined, added: number): string {
  if (added === 0) return '';
  return app === undefined
    ? "\nIf objects marked + are the application's own, created by its migrations in this schema, pass their directory (--app-migrations DIR, as for migrate up) and they are not drift."
    : "\nObjects marked + are not created by name in the --app-migrations files (made by hand, by dynamic SQL, or an unnamed constraint): name them in a migration, or remove them.";
}

/** How to regenerate the contract: in place, or — for the contract inside the installed package — into the project. */
function regenerateHint(file: string): string {
  const intro = 'If the database is right (a new migration changed the schema on purpose), regenerate the contract from a freshly migrated database and commit it:';
  if (!isInsideInstalledPackage(file)) return `${intro}\n  authdb schema dump --out ${file}`;
  return (
    `${intro}\n  authdb schema dump --out ${PROJECT_CONTRACT_FILE}\n` +
    `and check against that file from then on (--contract ${PROJECT_CONTRACT_FILE}); ${file} is the contract shipped with the installed authdb, which the next npm install replaces.`
  );
}
