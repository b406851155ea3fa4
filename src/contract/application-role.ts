import type { ClientBase } from 'pg';
import { assertSchemaTrusted } from '../migrate/schema-trust.js';
import { listApiHolders, type ApiHolder } from './api-holders.js';
import { missingLogSettings } from './log-settings.js';
import { findRoleRefusals } from './role-refusals.js';
import type { Snapshot } from './snapshot.js';

/** Prefix of authdb's private functions, which no application role is ever granted. */
export const PRIVATE_FUNCTION_PREFIX = 'authdb_';
/** Functions `authdb grant --maintenance` adds: they delete data. */
export const DEFAULT_MAINTENANCE_FUNCTIONS: readonly string[] = ['purge_expired_email_verification_tokens'];
/**
 * Roles that an HTTP gateway (Supabase's PostgREST) lets every browser act
 * as. The registration functions return the plaintext verification token to
 * their caller, so granting them to such a role lets anyone confirm any address.
 */
export const GATEWAY_ROLES: readonly string[] = ['anon', 'authenticated'];

/** Stable codes of the errors `authdb grant` raises. */
export type GrantErrorCode =
  /**
   * The role is PUBLIC, an HTTP-gateway role without the flag that accepts it,
   * does not exist, or can reach the tables without the functions (a
   * superuser, REPLICATION, a member of the install owner or of pg_read_all_data…).
   */
  | 'AUTHDB_GRANT_ROLE'
  /** A function the contract lists is missing from the schema (not migrated, or another version). */
  | 'AUTHDB_GRANT_SCHEMA';

export class GrantError extends Error {
  readonly code: GrantErrorCode;

  constructor(code: GrantErrorCode, message: string) {
    super(message);
    this.name = 'GrantError';
    this.code = code;
  }
}

export interface ApplicationRoleOptions {
  /** Connected as the install's owner (or a superuser), not inside a transaction. */
  readonly client: ClientBase;
  readonly schema: string;
  /** The role to grant to (or revoke from). */
  readonly role: string;
  /** The contract whose functions are granted (`schema/contract.json`). */
  readonly contract: Snapshot;
  /** Also the maintenance functions ({@link DEFAULT_MAINTENANCE_FUNCTIONS}). Default is `false`. */
  readonly maintenance?: boolean;
  /** Revoke instead of grant: exactly what the same options grant. Default is `false`. */
  readonly revoke?: boolean;
  /** Accept a role of {@link GATEWAY_ROLES}. Default is `false`. */
  readonly allowGatewayRole?: boolean;
}

/** What {@link applyApplicationRole} did. */
export interface GrantOutcome {
  /** The statements it ran, in order (the log settings' `ALTER ROLE … SET` included when connected as a superuser). */
  readonly statements: readonly string[];
  /**
   * The log settings (`ALTER ROLE … SET …`) the role still lacks, for a
   * superuser to run: the connected role is not one. Empty on `revoke`.
   */
  readonly pendingLogSettings: readonly string[];
}

/**
 * The functions an application role may execute, as `name(argument types)`:
 * every function of the contract whose name does not start with
 * {@link PRIVATE_FUNCTION_PREFIX}, without the maintenance functions unless
 * `maintenance` is set. Derived from the contract, so a new function or a
 * changed signature needs no change here.
 */
export function applicationFunctions(contract: Snapshot, options: { readonly maintenance?: boolean } = {}): string[] {
  return Object.keys(contract.objects)
    .filter((key) => key.startsWith('function '))
    .map((key) => key.slice('function '.length))
    .filter((signature) => !signature.startsWith(PRIVATE_FUNCTION_PREFIX))
    .filter((signature) => options.maintenance === true || !DEFAULT_MAINTENANCE_FUNCTIONS.includes(signature.slice(0, signature.indexOf('('))))
    .sort();
}

/** A function signature as the contract writes it: `name(type, type)`, nothing else. */
const SIGNATURE = /^([a-z_][a-z0-9_]*)\(([a-z0-9_ ,[\]."]*)\)$/;

/**
 * Grants `role` USAGE on the schema and EXECUTE on the application functions
 * (see {@link applicationFunctions}) — nothing else — or, with `revoke`,
 * takes exactly that away. Idempotent; one transaction; refuses PUBLIC, a
 * gateway role without `allowGatewayRole`, a role that does not exist, an
 * untrusted schema (`AUTHDB_SCHEMA_TRUST`) and a schema missing a function,
 * and a role that could reach the tables without the functions (see
 * {@link findRoleRefusals}). When granting, it also sets the role's log
 * settings ({@link LOG_SETTINGS}) if connected as a superuser, and otherwise
 * returns them for a superuser to run.
 */
export async function applyApplicationRole(options: ApplicationRoleOptions): Promise<GrantOutcome> {
  const { client, schema, role } = options;
  assertGrantable(role, options.allowGatewayRole ?? false);
  const { rows } = await client.query<{ exists: boolean }>('SELECT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1::pg_catalog.text) AS exists', [role]);
  if (!rows[0]?.exists) throw new GrantError('AUTHDB_GRANT_ROLE', `role "${role}" does not exist; create it first (CREATE ROLE ${client.escapeIdentifier(role)} LOGIN …)`);
  if (!options.revoke && !(options.allowGatewayRole ?? false)) await assertNoGatewayMember(client, role);
  await assertSchemaTrusted(client, { schema });
  if (!options.revoke) await assertNoRefusal(client, role, schema);

  const quotedSchema = client.escapeIdentifier(schema);
  const functions = qualifiedFunctions(client, schema, applicationFunctions(options.contract, { maintenance: options.maintenance ?? false }));
  await assertFunctionsExist(client, schema, functions);

  const grantee = client.escapeIdentifier(role);
  const [verb, preposition] = options.revoke ? ['REVOKE', 'FROM'] : ['GRANT', 'TO'];
  const statements = [
    ...functions.map((fn) => `${verb} EXECUTE ON FUNCTION ${fn} ${preposition} ${grantee}`),
    `${verb} USAGE ON SCHEMA ${quotedSchema} ${preposition} ${grantee}`,
  ];
  if (options.revoke) statements.reverse();
  const log = options.revoke ? { statements: [], superuser: false } : await missingLogSettings(client, role);
  if (log.superuser) statements.push(...log.statements);
  await client.query('BEGIN');
  try {
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  return { statements, pendingLogSettings: log.superuser ? [] : log.statements };
}

/**
 * Every role that can call the application functions (with the maintenance
 * ones), directly or through membership, with what is wrong with each; see
 * {@link listApiHolders}. Read-only; refuses an untrusted schema.
 */
export async function checkApplicationRoles(
  options: Pick<ApplicationRoleOptions, 'client' | 'schema' | 'contract' | 'allowGatewayRole'> & { readonly owner?: string | undefined },
): Promise<ApiHolder[]> {
  const { client, schema } = options;
  await assertSchemaTrusted(client, { schema, owner: options.owner });
  const functions = qualifiedFunctions(client, schema, applicationFunctions(options.contract, { maintenance: true }));
  return listApiHolders(client, { schema, functions, gatewayRoles: GATEWAY_ROLES, allowGatewayRole: options.allowGatewayRole ?? false });
}

/** A role that reaches authdb's tables (or the server) without the functions defeats the point of granting only them. */
async function assertNoRefusal(client: ClientBase, role: string, schema: string): Promise<void> {
  const refusals = await findRoleRefusals(client, role, schema);
  if (refusals.length === 0) return;
  throw new GrantError(
    'AUTHDB_GRANT_ROLE',
    `refusing to grant to "${role}": ${refusals.map((r) => r.reason).join('; ')}, so it can read users and change roles without the functions. ` +
      `Use a dedicated login role with none of these attributes or memberships (CREATE ROLE my_app LOGIN …), or fix this one as a superuser: ${refusals.map((r) => r.fix).join(' ')}`,
  );
}

/** `"schema"."name"(types)` for each contract signature; refuses one it cannot use. */
function qualifiedFunctions(client: ClientBase, schema: string, signatures: readonly string[]): string[] {
  return signatures.map((signature) => {
    const match = SIGNATURE.exec(signature);
    if (!match) throw new GrantError('AUTHDB_GRANT_SCHEMA', `the contract lists a function signature authdb grant cannot use: ${signature}`);
    return `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(match[1] ?? '')}(${match[2] ?? ''})`;
  });
}

function assertGrantable(role: string, allowGatewayRole: boolean): void {
  if (role.toLowerCase() === 'public') {
    throw new GrantError(
      'AUTHDB_GRANT_ROLE',
      'refusing to grant to PUBLIC: every role, present and future, could register users and read their verification tokens; create a dedicated application role and grant to it',
    );
  }
  if (GATEWAY_ROLES.includes(role) && !allowGatewayRole) {
    throw new GrantError(
      'AUTHDB_GRANT_ROLE',
      `refusing to grant to "${role}": an HTTP gateway (Supabase's PostgREST) lets any browser act as this role, and the registration functions return the plaintext ` +
        'verification token to their caller, so anyone could register or re-send for any address and confirm it without reading its mail; grant to a role only your ' +
        'server-side code uses, or pass --allow-gateway-role if the gateway never exposes these functions',
    );
  }
}

/**
 * A gateway role that is a member of `role`, directly or through other roles,
 * gets what `role` is granted (by inheritance or `SET ROLE`): refused like the
 * gateway role itself.
 */
async function assertNoGatewayMember(client: ClientBase, role: string): Promise<void> {
  const { rows } = await client.query<{ rolname: string }>(
    `WITH RECURSIVE members (oid) AS (
         SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name
         UNION
         SELECT m.member FROM pg_catalog.pg_auth_members AS m JOIN members ON m.roleid OPERATOR(pg_catalog.=) members.oid
     )
     SELECT r.rolname::pg_catalog.text AS rolname
       FROM members JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) members.oid
      WHERE r.rolname OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.name[])
      ORDER BY 1`,
    [role, GATEWAY_ROLES],
  );
  if (rows.length === 0) return;
  const members = rows.map((r) => `"${r.rolname}"`).join(', ');
  throw new GrantError(
    'AUTHDB_GRANT_ROLE',
    `refusing to grant to "${role}": the HTTP-gateway role ${members} is a member of it (directly or through other roles) and would get these functions, ` +
      'which return the plaintext verification token to their caller; revoke that membership (REVOKE ' +
      `${client.escapeIdentifier(role)} FROM ${rows.map((r) => client.escapeIdentifier(r.rolname)).join(', ')}), or pass --allow-gateway-role if the gateway never exposes these functions`,
  );
}

async function assertFunctionsExist(client: ClientBase, schema: string, functions: readonly string[]): Promise<void> {
  const { rows } = await client.query<{ signature: string }>(
    'SELECT s.signature FROM pg_catalog.unnest($1::pg_catalog.text[]) AS s(signature) WHERE pg_catalog.to_regprocedure(s.signature) IS NULL',
    [functions],
  );
  if (rows.length === 0) return;
  throw new GrantError(
    'AUTHDB_GRANT_SCHEMA',
    `schema "${schema}" lacks function(s) of the contract: ${rows.map((r) => r.signature).join(', ')}; run \`authdb migrate up\` for this schema (or pass the --contract of the installed version)`,
  );
}
