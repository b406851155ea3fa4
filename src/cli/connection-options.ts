import type pg from 'pg';
import { connectTimeoutFromEnv, DEFAULT_CONNECT_TIMEOUT_MS } from '../connection/client-settings.js';
import { resolveConnectionSource, type ConnectionSource } from '../connection/connection-source.js';
import { databaseUrlProblem } from '../connection/database-url.js';
import { withClient } from '../connection/open-client.js';
import { DEFAULT_SCHEMA } from '../migrate/migrator.js';
import type { Output } from './output.js';
import { parseDuration, UsageError, type OptionSpec } from './usage.js';

/** Where to connect and which schema: options of every command that talks to a database. */
export const CONNECTION_OPTIONS = {
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  'embedded-dir': { type: 'string' },
  'connect-timeout': { type: 'string' },
} as const satisfies OptionSpec;

/** Help lines of {@link CONNECTION_OPTIONS}, for commands that add options of their own. */
export const CONNECTION_OPTIONS_LINES = `  --database-url URL       server to use (default: $DATABASE_URL, else PG* variables
                           when PGHOST or PGDATABASE is set, else the embedded cluster)
  --schema NAME            target schema (default: $AUTHDB_SCHEMA, else ${DEFAULT_SCHEMA})
  --embedded-dir DIR       embedded cluster directory (default: $AUTHDB_EMBEDDED_DIR, else .authdb)
  --connect-timeout DUR    give up connecting after DUR, 0 for never (default: $PGCONNECT_TIMEOUT
                           seconds, else ${DEFAULT_CONNECT_TIMEOUT_MS / 1000}s)`;

export const HELP_OPTION_LINE = '  -h, --help               show this help';

export const CONNECTION_OPTIONS_HELP = `Connection options:
${CONNECTION_OPTIONS_LINES}
${HELP_OPTION_LINE}`;

export interface ConnectionSettings {
  readonly source: ConnectionSource;
  readonly schema: string;
}

type ConnectionValues = { readonly [K in keyof typeof CONNECTION_OPTIONS]?: string | undefined };

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** Validated connection settings: flag → DATABASE_URL → PG* → embedded, and a plain schema name. */
export function connectionSettings(values: ConnectionValues, env: NodeJS.ProcessEnv): ConnectionSettings {
  const schema = schemaSetting(values.schema, env);
  const source = resolveConnectionSource({ databaseUrl: values['database-url'], embeddedDir: values['embedded-dir'] }, env);
  if (source.kind === 'url') checkDatabaseUrl(source.origin, source.url);
  return { source: { ...source, connectTimeoutMs: connectTimeout(values['connect-timeout'], env) }, schema };
}

/** `--schema`, else `AUTHDB_SCHEMA`, else {@link DEFAULT_SCHEMA}: a plain identifier. */
export function schemaSetting(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const schema = flag ?? env.AUTHDB_SCHEMA ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) throw new UsageError(`--schema: "${schema}" is not a plain identifier (letters, digits, _ and $; at most 63)`);
  return schema;
}

/** Refuses anything but a postgres:// or postgresql:// URL, naming the option or variable that held it. */
export function checkDatabaseUrl(origin: string, url: string): void {
  const problem = databaseUrlProblem(url);
  if (problem !== undefined) throw new UsageError(`${origin}: the value ${problem}`);
}

/** `--connect-timeout`, else `PGCONNECT_TIMEOUT` (seconds, as libpq reads it), else the default. */
function connectTimeout(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  if (flag !== undefined) return parseDuration('connect-timeout', flag);
  try {
    return connectTimeoutFromEnv(env) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Connects in a session whose transactions are read-only by default
 * (`default_transaction_read_only`), so nothing the command runs can write.
 */
export function withReadOnlyClient<T>(source: ConnectionSource, command: string, output: Output, work: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(source, { applicationName: `authdb ${command}`, log: output.err }, async (client) => {
    await client.query('SET default_transaction_read_only = on');
    return work(client);
  });
}
