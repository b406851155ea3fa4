import type { ClientBase } from 'pg';

/**
 * The settings that keep an application role's bound parameters (tokens,
 * registration secrets, password hashes) out of the server log (README,
 * "Secrets out of server logs"), with the server version each needs.
 * Most can only be set for a role by a superuser.
 */
export const LOG_SETTINGS: readonly { readonly name: string; readonly value: string; readonly minVersion: number }[] = [
  { name: 'log_statement', value: 'none', minVersion: 0 },
  { name: 'log_parameter_max_length', value: '0', minVersion: 0 },
  { name: 'log_parameter_max_length_on_error', value: '0', minVersion: 0 },
  { name: 'plan_cache_mode', value: 'force_generic_plan', minVersion: 0 },
  { name: 'auto_explain.log_parameter_max_length', value: '0', minVersion: 160000 },
];

/** The log settings of an application role: applied, or to be applied by a superuser. */
export interface LogSettingsOutcome {
  /** `ALTER ROLE … SET …` statements this run executed (connected as a superuser). */
  readonly applied: readonly string[];
  /** The statements still needed, for a superuser to run (the connected role is not one). */
  readonly pending: readonly string[];
}

/**
 * The `ALTER ROLE role SET name = value` statements {@link LOG_SETTINGS}
 * still needs for `role` (in every database), and whether the connected role
 * is a superuser, who alone may run most of them.
 */
export async function missingLogSettings(client: ClientBase, role: string): Promise<{ readonly statements: string[]; readonly superuser: boolean }> {
  const { rows } = await client.query<{ config: string[] | null; version: number; superuser: boolean }>(
    `SELECT (SELECT s.setconfig FROM pg_catalog.pg_db_role_setting AS s JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) s.setrole
              WHERE r.rolname OPERATOR(pg_catalog.=) $1::pg_catalog.name AND s.setdatabase OPERATOR(pg_catalog.=) 0::pg_catalog.oid) AS config,
            pg_catalog.current_setting('server_version_num')::pg_catalog.int4 AS version,
            (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) AS superuser`,
    [role],
  );
  const row = rows[0];
  const present = new Set(row?.config ?? []);
  const statements = LOG_SETTINGS.filter((s) => (row?.version ?? 0) >= s.minVersion && !present.has(`${s.name}=${s.value}`)).map(
    (s) => `ALTER ROLE ${client.escapeIdentifier(role)} SET ${s.name} = ${client.escapeLiteral(s.value)}`,
  );
  return { statements, superuser: row?.superuser ?? false };
}
