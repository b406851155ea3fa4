import type { ApiHolder } from '../contract/api-holders.js';
import { applyApplicationRole, checkApplicationRoles, DEFAULT_MAINTENANCE_FUNCTIONS, GATEWAY_ROLES } from '../contract/application-role.js';
import { DEFAULT_CONTRACT_FILE, readContractFile } from '../contract/check.js';
import { withClient } from '../connection/open-client.js';
import { help, type Command } from './command.js';
import { CONNECTION_OPTIONS, CONNECTION_OPTIONS_HELP, connectionSettings, withReadOnlyClient } from './connection-options.js';
import type { Output } from './output.js';
import { OWNER_OPTION, OWNER_OPTION_LINE } from './owner-option.js';
import { parseCommand, UsageError } from './usage.js';

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  ...OWNER_OPTION,
  role: { type: 'string' },
  check: { type: 'boolean' },
  revoke: { type: 'boolean' },
  maintenance: { type: 'boolean' },
  'allow-gateway-role': { type: 'boolean' },
  contract: { type: 'string' },
} as const;

export const grant: Command = {
  help: `Usage: authdb grant --role NAME [--revoke] [--maintenance] [--allow-gateway-role] [options]
       authdb grant --check [--allow-gateway-role] [--owner ROLE] [options]

Grants NAME exactly what an application needs to call authdb: USAGE on the
target schema and EXECUTE on the application functions — every function of
the contract whose name does not start with authdb_, except the maintenance
function(s) ${DEFAULT_MAINTENANCE_FUNCTIONS.join(', ')}. No table privilege: the
role reads and writes only through the functions. Idempotent; one transaction;
prints the statements it ran. Run it as the role that ran the migrations.
Refuses a role that reaches the tables without the functions: a superuser,
REPLICATION, CREATEROLE (PostgreSQL <= 15), the install owner or a member of it,
of a superuser, or of pg_read_all_data, pg_write_all_data,
pg_read_server_files, pg_write_server_files or pg_execute_server_program.
Connected as a superuser, it also sets the role's log settings (ALTER ROLE …
SET log_statement = 'none', …); otherwise it prints them for a superuser.

  --role NAME            the application role (must exist; never PUBLIC)
  --maintenance          also EXECUTE on ${DEFAULT_MAINTENANCE_FUNCTIONS.join(', ')}
                         (for a scheduled cleanup job's role)
  --revoke               take away exactly what the same options grant
  --allow-gateway-role   accept ${GATEWAY_ROLES.join(' or ')}: refused by default because an HTTP
                         gateway (Supabase) lets any browser act as them, and the
                         registration functions return the plaintext verification
                         token, so anyone could confirm any address
  --contract FILE        whose functions to grant (default: $AUTHDB_CONTRACT, else
                         ${DEFAULT_CONTRACT_FILE})
  --check                grant nothing: list every role that can call the functions
                         (granted, or through membership in a role that was) and
                         exit 1 if one should not: PUBLIC, a member of a grantee
                         (a later GRANT my_app TO anon), a member of the install
                         owner, a grantee grant would refuse, a gateway role
${OWNER_OPTION_LINE}

${CONNECTION_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    if (values.check) return check(values, env, output);
    if (values.role === undefined || values.role === '') throw new UsageError('--role NAME is required');
    const role = values.role;
    const settings = connectionSettings(values, env);
    const contract = await readContractFile(values.contract ?? env.AUTHDB_CONTRACT ?? DEFAULT_CONTRACT_FILE);
    const { statements, pendingLogSettings } = await withClient(settings.source, { applicationName: 'authdb grant', log: output.err }, (client) =>
      applyApplicationRole({
        client,
        schema: settings.schema,
        role,
        contract,
        maintenance: values.maintenance ?? false,
        revoke: values.revoke ?? false,
        allowGatewayRole: values['allow-gateway-role'] ?? false,
      }),
    );
    for (const statement of statements) output.out(`${statement};`);
    output.err(`authdb: ${values.revoke ? 'revoked from' : 'granted to'} role "${role}" in schema "${settings.schema}" (${statements.length} statements)`);
    if (pendingLogSettings.length > 0) {
      output.err(`authdb: only a superuser may set role "${role}"'s log settings (README, "Secrets out of server logs"); run as a superuser:`);
      for (const statement of pendingLogSettings) output.err(`  ${statement};`);
    }
    return 0;
  },
};

type GrantValues = Parameters<typeof connectionSettings>[0] & { readonly owner?: string | undefined; readonly contract?: string | undefined; readonly 'allow-gateway-role'?: boolean | undefined };

/** `grant --check`: every role that can call the API, one line each, and exit 1 when one should not. */
async function check(values: GrantValues, env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  const settings = connectionSettings(values, env);
  const contract = await readContractFile(values.contract ?? env.AUTHDB_CONTRACT ?? DEFAULT_CONTRACT_FILE);
  const holders = await withReadOnlyClient(settings.source, 'grant --check', output, (client) =>
    checkApplicationRoles({ client, schema: settings.schema, contract, owner: values.owner, allowGatewayRole: values['allow-gateway-role'] ?? false }),
  );
  for (const holder of holders) output.out(describeHolder(holder));
  const bad = holders.filter((h) => h.problems.length > 0);
  if (bad.length === 0) {
    output.err(`authdb: ${holders.length} role(s) can call the functions of schema "${settings.schema}", none that should not`);
    return 0;
  }
  output.err(`authdb: ${bad.length} role(s) can call the functions of schema "${settings.schema}" and should not: ${bad.map((h) => `"${h.role}"`).join(', ')}`);
  return 1;
}

function describeHolder(h: ApiHolder): string {
  const head = `role "${h.role}": ${h.functions.length} function(s), ${describeHow(h)}`;
  return h.problems.length === 0 ? head : [head, ...h.problems.map((p) => `  problem: ${p}`)].join('\n');
}

function describeHow(h: ApiHolder): string {
  const chain = [h.role, ...h.path].map((r) => `"${r}"`).join(' → ');
  switch (h.how) {
    case 'grantee':
      return 'granted';
    case 'member':
      return `through ${chain}`;
    case 'gateway-login':
      return `through ${chain}: the HTTP gateway's login (a member of ${GATEWAY_ROLES.join('/')}), which acts as "${h.path[0] ?? '?'}" only for requests whose signed JWT names that role`;
    case 'owner-member':
      return `as a member of the install owner "${h.path.at(-1) ?? '?'}"`;
  }
}
