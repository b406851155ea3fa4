import { resolve } from 'node:path';
import pg from 'pg';
import { clientSafetyConfig, DEFAULT_CONNECT_TIMEOUT_MS } from './client-settings.js';
import { redactUrl, type ConnectionSource } from './connection-source.js';
import { ConnectionError } from './errors.js';
import { setUpSession } from './session-setup.js';

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
/** A second session to the same server, opened on demand (the migrator's session-stability probe). */
export interface SiblingSession {
  readonly client: pg.Client;
  close(): Promise<void>;
}

/** What `work` gets: the client, and a way to open another session to the same server. */
export type ClientWork<T> = (client: pg.Client, openSibling: () => Promise<SiblingSession>) => Promise<T>;

export async function withClient<T>(source: ConnectionSource, options: OpenClientOptions, work: ClientWork<T>): Promise<T> {
  if (source.kind !== 'embedded') return connectAndRun(clientConfig(source), source, options, work);
  // Loaded only for the embedded cluster: a command given a server's URL does without it.
  const { withEmbeddedCluster } = await import('../embedded/cluster-session.js');
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
  work: ClientWork<T>,
): Promise<T> {
  const fullConfig = { ...config, ...clientSafetyConfig(source.connectTimeoutMs), application_name: options.applicationName };
  const client = new pg.Client(fullConfig);
  client.on('error', (error) => {
    options.log(`authdb: connection error: ${error.message}`);
  });
  try {
    await client.connect();
  } catch (error) {
    // A login that fails inside pg (no password for a SCRAM server) leaves the socket open: close it, or the process never exits.
    await client.end().catch(() => undefined);
    throw connectError(source, error);
  }
  try {
    await setUpSession(client);
    return await work(client, () => openSibling(fullConfig, source));
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function openSibling(config: pg.ClientConfig, source: ConnectionSource): Promise<SiblingSession> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectError(source, error);
  }
  await setUpSession(client);
  return { client, close: () => client.end().catch(() => undefined) };
}

/** A failed connection attempt, naming the server (password redacted) and, for a timeout, how to change it. */
export function connectError(source: ConnectionSource, error: unknown): ConnectionError {
  const message = (error as Error).message;
  const timeoutMs = source.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const why =
    message === 'timeout expired'
      ? `the server did not complete the connection within ${timeoutMs / 1000} s (it accepted TCP but did not answer: ` +
        'a wrong port, a firewall that drops packets, or an overloaded server or pooler); ' +
        'raise the limit with --connect-timeout or PGCONNECT_TIMEOUT if the server is just slow'
      : message;
  return new ConnectionError(`cannot connect to ${describeSource(source)}: ${why}`, { cause: error });
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
