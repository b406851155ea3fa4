import { applyApplicationRole, DEFAULT_MAINTENANCE_FUNCTIONS, GATEWAY_ROLES } from '../contract/application-role.js';
import { DEFAULT_CONTRACT_FILE, readContractFile } from '../contract/check.js';
import { withClient } from '../connection/open-client.js';
import { help, type Command } from './command.js';
import { CONNECTION_OPTIONS, CONNECTION_OPTIONS_HELP, connectionSettings } from './connection-options.js';
import { parseCommand, UsageError } from './usage.js';

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  role: { type: 'string' },
  revoke: { type: 'boolean' },
  maintenance: { type: 'boolean' },
  'allow-gateway-role': { type: 'boolean' },
  contract: { type: 'string' },
} as const;

export const grant: Command = {
  name: 'grant',
  summary: 'give an application role USAGE on the schema and EXECUTE on the API functions (or --revoke)',
  help: `Usage: authdb grant --role NAME [--revoke] [--maintenance] [--allow-gateway-role] [options]

Grants NAME exactly what an application needs to call authdb: USAGE on the
target schema and EXECUTE on the application functions — every function of
the contract whose name does not start with authdb_, except the maintenance
function(s) ${DEFAULT_MAINTENANCE_FUNCTIONS.join(', ')}. No table privilege: the
role reads and writes only through the functions. Idempotent; one transaction;
prints the statements it ran. Run it as the role that ran the migrations.

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

${CONNECTION_OPTIONS_HELP}`,
  async run(argv, output, env) {
    const { values } = parseCommand(argv, OPTIONS, { min: 0, max: 0 });
    if (values.help) return help(output, this.help);
    if (values.role === undefined || values.role === '') throw new UsageError('--role NAME is required');
    const role = values.role;
    const settings = connectionSettings(values, env);
    const contract = await readContractFile(values.contract ?? env.AUTHDB_CONTRACT ?? DEFAULT_CONTRACT_FILE);
    const statements = await withClient(settings.source, { applicationName: 'authdb grant', log: output.err }, (client) =>
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
    return 0;
  },
};
