import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { clientSafetyConfig } from '../connection/client-settings.js';
import type { ConnectionSource } from '../connection/connection-source.js';
import { setUpSession } from '../connection/session-setup.js';
import { EmbeddedCluster } from '../embedded/cluster.js';
import { ContractError } from './errors.js';

/** Prefix of the databases `migrate verify-reversible` creates (and drops). */
export const SCRATCH_PREFIX = 'authdb_verify_';
/** Prefix of the databases `migrate baseline` creates (and drops). */
export const BASELINE_SCRATCH_PREFIX = 'authdb_baseline_';

export interface ScratchOptions {
  /** A connection to the server, used for CREATE DATABASE and DROP DATABASE only. */
  readonly admin: pg.ClientBase;
  /** How `admin` was reached; the scratch database is reached the same way. */
  readonly source: ConnectionSource;
  readonly applicationName: string;
  /** Leave the database in place for inspection. Default is `false`. */
  readonly keep?: boolean;
  /** The name's prefix. Default is {@link SCRATCH_PREFIX}. */
  readonly prefix?: string;
}

/**
 * Creates `<prefix><random>` (default `authdb_verify_<random>`) from `template0` on the server of
 * `admin`, runs `work` connected to it, and drops it afterwards (also when
 * `work` fails), unless `keep` is set.
 */
export async function withScratchDatabase<T>(options: ScratchOptions, work: (client: pg.Client, name: string) => Promise<T>): Promise<T> {
  const name = `${options.prefix ?? SCRATCH_PREFIX}${randomBytes(6).toString('hex')}`;
  await options.admin.query(`CREATE DATABASE ${name} TEMPLATE template0`).catch((error: unknown) => {
    throw new ContractError(
      'AUTHDB_SCRATCH',
      `cannot create the scratch database ${name}: ${(error as Error).message}; the role needs CREATEDB (ALTER ROLE … CREATEDB), or pass --scratch-url with an empty database`,
      { cause: error },
    );
  });
  try {
    const client = new pg.Client({
      ...(await scratchConfig(options.source, name)),
      ...clientSafetyConfig(options.source.connectTimeoutMs),
      application_name: options.applicationName,
    });
    await client.connect();
    try {
      await setUpSession(client);
      await makePrivate(client, name);
      return await work(client, name);
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    if (!options.keep) await options.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Connection settings for database `name` on the server `source` names. */
async function scratchConfig(source: ConnectionSource, name: string): Promise<pg.ClientConfig> {
  switch (source.kind) {
    case 'url': {
      const url = new URL(source.url);
      url.pathname = `/${name}`;
      return { connectionString: url.toString() };
    }
    case 'pg-env':
      return { database: name };
    case 'embedded':
      return { connectionString: await new EmbeddedCluster({ dir: source.dir }).superuserUrl(name) };
  }
}

/**
 * Makes the new scratch database private to the role that created it: no
 * other role may connect, and, where this role may change it (it owns
 * `public` or is a superuser), nobody else may create objects in `public`
 * (PostgreSQL 14 and older let PUBLIC do so in a database made from
 * template0). So the schema-trust check passes for `--schema public`, and no
 * other role can plant anything in the database while it is verified.
 */
async function makePrivate(client: pg.ClientBase, name: string): Promise<void> {
  await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${client.escapeIdentifier(name)} FROM PUBLIC`);
  const { rows } = await client.query<{ canRevoke: boolean }>(
    `SELECT n.nspowner = r.oid OR r.rolsuper AS "canRevoke"
       FROM pg_catalog.pg_namespace AS n, pg_catalog.pg_roles AS r
      WHERE n.nspname = 'public' AND r.rolname = CURRENT_USER`,
  );
  if (rows[0]?.canRevoke) await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
}
