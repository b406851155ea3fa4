/**
 * The server the bench measures: BENCH_DATABASE_URL, or a dedicated embedded
 * cluster (default durability settings) created in the OS temp directory and
 * removed after the run. Every database the bench creates is dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedCluster } from '../src/embedded/cluster.js';
import { Migrator } from '../src/migrate/migrator.js';

/**
 * Settings of the dedicated embedded cluster. Default durability; only
 * max_wal_size is raised, so loading a million users does not force
 * checkpoints into the measurements that follow.
 */
export const DEFAULT_EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  max_connections: '150',
  max_wal_size: "'4GB'",
};

export interface BenchServer {
  readonly adminUrl: string;
  /** 'embedded' or 'BENCH_DATABASE_URL'. */
  readonly kind: string;
  /** Restarts the server with extra settings (embedded only); undefined for your own server. */
  readonly restartWith: ((settings: Readonly<Record<string, string>>) => Promise<string>) | undefined;
  /** Creates an empty database and returns its URL. */
  createDatabase(suffix: string): Promise<string>;
}

/** Unique per run, so a shared server can hold several runs' databases at once. */
export const RUN_ID = randomBytes(3).toString('hex');

export async function withServer<T>(databaseUrl: string | undefined, work: (server: BenchServer) => Promise<T>): Promise<T> {
  if (databaseUrl !== undefined) return withDatabases(databaseUrl, 'BENCH_DATABASE_URL', undefined, work);
  const dir = await mkdtemp(join(tmpdir(), 'authdb-bench-'));
  const cluster = new EmbeddedCluster({ dir, settings: DEFAULT_EMBEDDED_SETTINGS });
  // Ctrl-C or kill: stop the cluster (a pg_ctl daemon, which would outlive us) and remove it.
  const onSignal = (): void => {
    void cluster
      .stop()
      .catch(() => undefined)
      .then(() => rm(dir, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    await cluster.initialise();
    await cluster.start();
    const restartWith = async (settings: Readonly<Record<string, string>>): Promise<string> => {
      const admin = new pg.Client({ connectionString: await cluster.superuserUrl() });
      await admin.connect();
      try {
        for (const [name, value] of Object.entries(settings)) await admin.query(`ALTER SYSTEM SET ${name} = ${value}`);
      } finally {
        await admin.end();
      }
      await cluster.stop();
      await cluster.start();
      return cluster.superuserUrl();
    };
    return await withDatabases(await cluster.superuserUrl(), 'embedded', restartWith, work);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function withDatabases<T>(
  adminUrl: string,
  kind: string,
  restart: ((settings: Readonly<Record<string, string>>) => Promise<string>) | undefined,
  work: (server: BenchServer) => Promise<T>,
): Promise<T> {
  const created: string[] = [];
  let currentAdminUrl = adminUrl;
  const server: BenchServer = {
    get adminUrl() {
      return currentAdminUrl;
    },
    kind,
    restartWith:
      restart &&
      (async (settings) => {
        currentAdminUrl = await restart(settings);
        return currentAdminUrl;
      }),
    async createDatabase(suffix) {
      const name = `authdb_bench_${RUN_ID}_${suffix}`;
      await withAdmin(currentAdminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
      created.push(name);
      return databaseUrl(currentAdminUrl, name);
    },
  };
  try {
    return await work(server);
  } finally {
    await withAdmin(currentAdminUrl, async (admin) => {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  }
}

/** The URL of another database on the same server. */
export function databaseUrl(url: string, database: string): string {
  const copy = new URL(url);
  copy.pathname = `/${encodeURIComponent(database)}`;
  return copy.toString();
}

export async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Applies authdb's migrations (the engine, as `authdb migrate up` does). */
export function migrate(url: string): Promise<void> {
  return withAdmin(url, async (client) => {
    await new Migrator({ client }).up();
  });
}

/** A pool whose sockets may still be closing when DROP DATABASE … WITH (FORCE) runs. */
export function openPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

/** Opens every connection of the pool now, so connection set-up is not timed. */
export async function warmPool(pool: pg.Pool, size: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  for (const client of clients) client.release();
}

/**
 * How libpq programs (pgbench, psql) reach a database without the password
 * on their command line: a connection URI without it, and PGPASSWORD.
 */
export function libpqTarget(url: string): { readonly uri: string; readonly env: NodeJS.ProcessEnv } {
  const copy = new URL(url);
  const password = decodeURIComponent(copy.password);
  copy.password = '';
  return { uri: copy.toString(), env: { ...process.env, ...(password !== '' && { PGPASSWORD: password }) } };
}
