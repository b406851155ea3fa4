import { resolve } from 'node:path';
import pg from 'pg';
import { withEmbeddedCluster } from '../embedded/cluster-session.js';
import { redactUrl, type ConnectionSource } from './connection-source.js';

export interface OpenClientOptions {
  /** `application_name` of the session, shown to other runs waiting for the lock. */
  readonly applicationName: string;
  /** Diagnostics (stderr in the CLI). */
  readonly log: (message: string) => void;
}

/**
 * Connects to the source, runs `work`, disconnects. For the embedded default
 * the cluster is created and started when needed, shared with other authdb
 * commands, and stopped after its last user (see `withEmbeddedCluster`).
 */
export async function withClient<T>(source: ConnectionSource, options: OpenClientOptions, work: (client: pg.Client) => Promise<T>): Promise<T> {
  if (source.kind !== 'embedded') return connectAndRun(clientConfig(source), source, options, work);
  return withEmbeddedCluster({ dir: source.dir, log: options.log }, ({ url, created, started }) => {
    if (created) options.log(`authdb: created an embedded PostgreSQL cluster in ${resolve(source.dir)}`);
    options.log(
      `authdb: using the embedded PostgreSQL in ${resolve(source.dir)}` +
        (started ? ' (started for this command; stopped when the last command using it ends)' : ' (already running)') +
        '; use --database-url or DATABASE_URL for your own server',
    );
    return connectAndRun({ connectionString: url }, source, options, work);
  });
}

function clientConfig(source: Exclude<ConnectionSource, { kind: 'embedded' }>): pg.ClientConfig {
  return source.kind === 'url' ? { connectionString: source.url } : {};
}

async function connectAndRun<T>(
  config: pg.ClientConfig,
  source: ConnectionSource,
  options: OpenClientOptions,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ ...config, application_name: options.applicationName });
  client.on('error', (error) => {
    options.log(`authdb: connection error: ${error.message}`);
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`cannot connect to ${describeSource(source)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Where the connection goes, without secrets. */
export function describeSource(source: ConnectionSource): string {
  switch (source.kind) {
    case 'url':
      return `${redactUrl(source.url)} (from ${source.origin})`;
    case 'pg-env':
      return `the server named by the PG* environment variables (PGHOST=${process.env.PGHOST ?? ''}, PGDATABASE=${process.env.PGDATABASE ?? ''})`;
    case 'embedded':
      return `the embedded PostgreSQL in ${source.dir}`;
  }
}
