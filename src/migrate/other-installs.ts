import type { ClientBase } from 'pg';
import { MigrationError } from './errors.js';
import { TRACKING_TABLE } from './tracking-table.js';

/**
 * The other schemas of the connected database whose `authdb_migrations`
 * records any of `names` (the migrations about to be applied): installs of the
 * same migrations. Empty when `schema` itself already records one, as it is
 * then not a new install. A tracking table the connected role may not read is
 * left out: it cannot be told apart from another tool's. So is one with row
 * security or whose `name` is not `text`: reading it could run code its owner
 * wrote (a policy, an operator) as the migrating role.
 */
export async function otherInstalls(client: ClientBase, schema: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await client.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
       WHERE c.relname OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[])
         AND NOT c.relrowsecurity
         AND EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) 'name'
           AND a.atttypid OPERATOR(pg_catalog.=) 'pg_catalog.text'::pg_catalog.regtype AND NOT a.attisdropped)
       ORDER BY n.nspname OPERATOR(pg_catalog.=) $2 DESC, 1`,
    [TRACKING_TABLE, schema],
  );
  const found: string[] = [];
  for (const { schema: candidate } of rows) {
    if (!(await records(client, candidate, names))) continue;
    if (candidate === schema) return [];
    found.push(candidate);
  }
  return found;
}

/** `migrate up` would start a new install while another schema of the database holds one. Nothing was run. */
export class SecondInstallError extends MigrationError {
  readonly existing: readonly string[];

  constructor(schema: string, existing: readonly string[]) {
    const named = existing.map((s) => `"${s}"`).join(', ');
    super(
      'AUTHDB_SECOND_INSTALL',
      `schema "${schema}" holds no authdb install, but ${existing.length === 1 ? 'schema' : 'schemas'} ${named} of this database ${existing.length === 1 ? 'holds' : 'hold'} one of the same migrations; nothing was run.\n` +
        `To migrate the existing install, pass --schema ${existing[0] ?? ''}. To create a second, independent install in "${schema}", pass --allow-second-install.`,
    );
    this.existing = existing;
  }
}

async function records(client: ClientBase, schema: string, names: readonly string[]): Promise<boolean> {
  try {
    const { rows } = await client.query<{ found: boolean }>(
      `SELECT EXISTS (SELECT FROM ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(TRACKING_TABLE)} WHERE name OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])) AS found`,
      [names],
    );
    return rows[0]?.found === true;
  } catch (error) {
    if ((error as { code?: unknown }).code === '42501' || (error as { code?: unknown }).code === '42703') return false;
    throw error;
  }
}
