import type pg from 'pg';
import type { ConnectionSource } from '../connection/connection-source.js';
import { withClient } from '../connection/open-client.js';
import { DEFAULT_SCHEMA } from '../migrate/migrator.js';
import { migrateSettings } from './migrate-options.js';
import type { Output } from './output.js';
import type { OptionSpec } from './usage.js';

/** Where to connect and which schema: the connection options of the migrate commands. */
export const CONNECTION_OPTIONS = {
  'database-url': { type: 'string' },
  schema: { type: 'string' },
  'embedded-dir': { type: 'string' },
} as const satisfies OptionSpec;

export const CONNECTION_OPTIONS_HELP = `Connection options:
  --database-url URL       server to use (default: $DATABASE_URL, else PG* variables
                           when PGHOST or PGDATABASE is set, else the embedded cluster)
  --schema NAME            target schema (default: ${DEFAULT_SCHEMA})
  --embedded-dir DIR       embedded cluster directory (default: $AUTHDB_EMBEDDED_DIR, else .authdb)
  -h, --help               show this help`;

export interface ConnectionSettings {
  readonly source: ConnectionSource;
  readonly schema: string;
}

type ConnectionValues = { readonly [K in keyof typeof CONNECTION_OPTIONS]?: string | undefined };

/** Validated connection settings, resolved as the migrate commands resolve them. */
export function connectionSettings(values: ConnectionValues, env: NodeJS.ProcessEnv): ConnectionSettings {
  const { source, schema } = migrateSettings(values, env);
  return { source, schema };
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
