import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { createTempDir, type TempDir } from './migration-fixtures.js';

/** Where Debian's `pgbouncer` package puts the binary; else found on PATH. */
const CANDIDATES = ['/usr/sbin/pgbouncer', 'pgbouncer'];

/** The pgbouncer binary, or undefined when it is not installed (`apt-get install pgbouncer`; `.ci/run` installs it). */
export function findPgBouncer(): string | undefined {
  return CANDIDATES.find((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** A running PgBouncer on 127.0.0.1 in front of one database. */
export interface PgBouncer {
  /** URL of `database` through the pool in transaction mode. */
  readonly transactionUrl: string;
  /** URL of the same database through a pool in session mode. */
  readonly sessionUrl: string;
  /** URL of the same database through a pool in statement mode. */
  readonly statementUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts PgBouncer (foreground, loopback only, as the `postgres` OS user when
 * run as root, since PgBouncer refuses to run as root) with two pools in
 * front of the database that `serverUrl` names: `<db>_tx` in transaction
 * mode, `<db>_session` in session mode and `<db>_stmt` in statement mode. Clients log in without a
 * password (`auth_type = any`); PgBouncer logs in to the server as the
 * URL's user.
 */
export interface PgBouncerOptions {
  /** Server connections per pool (`default_pool_size`). Default is 4. */
  readonly poolSize?: number;
}

export async function startPgBouncer(bin: string, serverUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const database = decodeURIComponent(server.pathname.slice(1));
  const dir: TempDir = await createTempDir('authdb-pgbouncer-');
  await chmod(dir.path, 0o755);
  const port = await freePort();
  const target = [
    `host=${server.hostname}`,
    `port=${server.port}`,
    `dbname=${database}`,
    `user=${decodeURIComponent(server.username)}`,
    `password=${decodeURIComponent(server.password)}`,
  ].join(' ');
  const config = join(dir.path, 'pgbouncer.ini');
  await writeFile(
    config,
    [
      '[databases]',
      `${database}_tx = ${target} pool_mode=transaction`,
      `${database}_session = ${target} pool_mode=session`,
      `${database}_stmt = ${target} pool_mode=statement`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir =`,
      'auth_type = any',
      `default_pool_size = ${options.poolSize ?? 4}`,
      'ignore_startup_parameters = extra_float_digits',
      '',
    ].join('\n'),
  );
  await chmod(config, 0o644);
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', config] : [config];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  const url = (name: string): string => `postgres://${encodeURIComponent(decodeURIComponent(server.username))}@127.0.0.1:${port}/${name}`;
  const bouncer: PgBouncer = {
    transactionUrl: url(`${database}_tx`),
    sessionUrl: url(`${database}_session`),
    statementUrl: url(`${database}_stmt`),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await dir.remove();
    },
  };
  try {
    await waitUntilAccepting(bouncer.sessionUrl, () => (child.exitCode === null ? undefined : `pgbouncer exited (${child.exitCode}): ${stderr}`));
  } catch (error) {
    await bouncer.stop();
    throw error;
  }
  return bouncer;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Polls until a query through the pool answers (PgBouncer is listening and reaches the server). */
async function waitUntilAccepting(url: string, failure: () => string | undefined): Promise<void> {
  const started = performance.now();
  for (;;) {
    const dead = failure();
    if (dead !== undefined) throw new Error(dead);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (performance.now() - started > 20_000) throw new Error(`pgbouncer did not answer within 20 s: ${(error as Error).message}`, { cause: error });
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
