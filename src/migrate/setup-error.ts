import type { ClientBase } from 'pg';
import { MigrationError } from './errors.js';
import { ownSchemaFix } from './own-schema-fix.js';

/** A statement authdb runs to set itself up (the target schema, `authdb_migrations`) failed. */
export class SetupError extends MigrationError {
  constructor(message: string, options?: ErrorOptions) {
    super('AUTHDB_SETUP', message, options);
  }
}

/**
 * Runs one set-up statement; a failure becomes a {@link SetupError} naming
 * the statement, the privilege that was missing and the ways out.
 */
export async function runSetupStatement(client: ClientBase, statement: string, target: { readonly schema: string }): Promise<void> {
  try {
    await client.query(statement);
  } catch (error) {
    throw await explainSetupFailure(client, error, statement, target.schema);
  }
}

async function explainSetupFailure(client: ClientBase, error: unknown, statement: string, schema: string): Promise<unknown> {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return error;
  const server = `SQLSTATE ${code}: ${(error as Error).message}`;
  const who = await client
    .query<{ role: string; database: string }>('SELECT pg_catalog.current_user()::text AS role, pg_catalog.current_database()::text AS database')
    .then((r) => r.rows[0], () => undefined);
  const role = client.escapeIdentifier(who?.role ?? 'the_role');
  const database = client.escapeIdentifier(who?.database ?? 'the_database');
  const quotedSchema = client.escapeIdentifier(schema);
  let advice: string;
  if (code === '42501' && /permission denied for database/.test((error as Error).message)) {
    advice =
      `the role ${role} lacks the CREATE privilege on database ${database}, which creating a schema needs; either a DBA creates the schema for it ` +
      `(CREATE SCHEMA ${quotedSchema} AUTHORIZATION ${role};) or grants the privilege (GRANT CREATE ON DATABASE ${database} TO ${role};)`;
  } else if (code === '42501' && /permission denied for schema/.test((error as Error).message)) {
    advice =
      `the role ${role} lacks the CREATE privilege on schema ${quotedSchema}, which creating authdb's tables and functions there needs; ` +
      `either the schema's owner grants the privilege (GRANT CREATE ON SCHEMA ${quotedSchema} TO ${role};) or ${ownSchemaFix(schema, role)}`;
  } else {
    advice = 'fix the cause above and rerun';
  }
  return new SetupError(`setting up schema "${schema}" failed: ${firstLine(statement)}: ${server}; ${advice}. Nothing was migrated.`, { cause: error });
}

/** The statement's first line, with "(…)" when there is more. */
function firstLine(statement: string): string {
  const lines = statement.trim().split('\n');
  return lines.length === 1 ? lines[0] ?? '' : `${(lines[0] ?? '').replace(/\s*\($/, '')} (…)`;
}
