import pg from 'pg';
import { EmbeddedCluster } from '../embedded/cluster.js';
import { redactUrl, type ConnectionSource } from './connection-source.js';
import { setUpSession } from './session-setup.js';

export interface OpenClientOptions {
  /** `application_name` of the session, shown to other runs waiting for the lock. */
  readonly applicationName: string;
  /** Diagnostics (stderr in the CLI). */
  readonly log: (message: string) => void;
}

/**
 * Connects to the source, runs `work`, disconnects. For the embedded default
 * it initialises the cluster when needed and, when it was not running, starts
 * it for this command and stops it after (even when `work` fails or the user
 * presses Ctrl-C).
 */
export async function withClient<T>(source: ConnectionSource, options: OpenClientOptions, work: (client: pg.Client) => Promise<T>): Promise<T> {
  if (source.kind !== 'embedded') return connectAndRun(clientConfig(source), source, options, work);
  const cluster = new EmbeddedCluster({ dir: source.dir });
  if (await cluster.initialise()) options.log(`authdb: created an embedded PostgreSQL cluster in ${cluster.dir}`);
  const started = await cluster.start();
  options.log(
    `authdb: using the embedded PostgreSQL in ${cluster.dir}${started ? ' (started for this command, stopped after it)' : ' (already running)'}; ` +
      'use --database-url or DATABASE_URL for your own server',
  );
  const stopOnSignal = (): void => {
    void cluster.stop().finally(() => process.exit(130));
  };
  if (started) process.once('SIGINT', stopOnSignal).once('SIGTERM', stopOnSignal);
  try {
    return await connectAndRun({ connectionString: await cluster.url() }, source, options, work);
  } finally {
    if (started) {
      process.off('SIGINT', stopOnSignal).off('SIGTERM', stopOnSignal);
      await cluster.stop();
    }
  }
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
    await setUpSession(client);
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
