import { unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedCluster } from './cluster.js';
import { notWritable, prepareClusterDirectory } from './cluster-directory.js';
import { EmbeddedError } from './errors.js';
import { flock } from './flock.js';
import { serverAccount } from './os-user.js';
import { createPrivateFile, fileError, openOrCreatePrivateFile, readPrivateFile } from './private-files.js';

/**
 * How long a command waits for another authdb process that is creating,
 * starting or stopping the same cluster. Default is 2 minutes (an initdb and a
 * start on a loaded machine take seconds).
 */
export const DEFAULT_CLUSTER_LOCK_TIMEOUT_MS = 120_000;

/** After this long waiting for the lock, say who holds it. Default is 1 second. */
const ANNOUNCE_WAIT_AFTER_MS = 1000;

export interface SessionOptions {
  readonly dir: string;
  /** Diagnostics (stderr in the CLI). */
  readonly log: (message: string) => void;
  /** Default is {@link DEFAULT_CLUSTER_LOCK_TIMEOUT_MS}. */
  readonly lockTimeoutMs?: number;
}

/**
 * The files that coordinate authdb processes sharing one cluster directory:
 *
 * - `lock`: held exclusively (flock) while a process creates, starts or stops
 *   the cluster, or decides whether to stop it — so concurrent first uses make
 *   one cluster, and a stop never races a start;
 * - `users.lock`: every command using the cluster holds a shared flock on it
 *   (its lease) while it runs; the kernel drops the lease when the process
 *   dies, so a crashed command is never counted;
 * - `keep-running`: present while `authdb db start` wants the server kept.
 */
export class ClusterSession {
  readonly cluster: EmbeddedCluster;
  readonly #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
    this.cluster = new EmbeddedCluster({ dir: options.dir, log: options.log });
  }

  get #lockFile(): string {
    return join(this.cluster.dir, 'lock');
  }

  get #usersFile(): string {
    return join(this.cluster.dir, 'users.lock');
  }

  get #keepFile(): string {
    return join(this.cluster.dir, 'keep-running');
  }

  /** Runs `work` holding the cluster's exclusive lock (waiting for it as long as allowed). */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    await prepareClusterDirectory(this.cluster.dir, await serverAccount());
    const handle = await openOrCreatePrivateFile(this.#lockFile).catch((error: unknown) => {
      throw notWritable(this.cluster.dir, error);
    });
    try {
      await this.#lock(handle);
      await handle.truncate(0);
      await handle.write(`${process.pid}\n`, 0);
      return await work();
    } finally {
      await handle.close(); // releases the lock
    }
  }

  async #lock(handle: FileHandle): Promise<void> {
    if (await flock(handle, 'exclusive', { wait: false })) return;
    const holder = (await handle.readFile('utf8').catch(() => '')).trim();
    const timer = setTimeout(() => {
      this.#options.log(
        `authdb: waiting for another authdb process${/^\d+$/.test(holder) ? ` (pid ${holder})` : ''} that is creating, starting or stopping the embedded PostgreSQL in ${this.cluster.dir}`,
      );
    }, ANNOUNCE_WAIT_AFTER_MS);
    const timeoutMs = this.#options.lockTimeoutMs ?? DEFAULT_CLUSTER_LOCK_TIMEOUT_MS;
    try {
      if (await flock(handle, 'exclusive', { wait: true, timeoutMs })) return;
    } finally {
      clearTimeout(timer);
    }
    throw new EmbeddedError(
      'AUTHDB_EMBEDDED_LOCK',
      `another authdb process${/^\d+$/.test(holder) ? ` (pid ${holder})` : ''} held the lock of the embedded PostgreSQL in ${this.cluster.dir} ` +
        `for more than ${Math.round(timeoutMs / 1000)} s (${this.#lockFile}); wait for it to finish, or stop it`,
    );
  }

  /**
   * Takes a lease (a shared lock on `users.lock`) for this process. Call
   * inside {@link exclusive}; close the handle through {@link leave}.
   */
  async join(): Promise<FileHandle> {
    const handle = await openOrCreatePrivateFile(this.#usersFile);
    // Exclusive holders of users.lock only exist inside exclusive(), which we hold: this never waits.
    if (!(await flock(handle, 'shared', { wait: false }))) {
      await handle.close();
      throw new Error(`could not take a shared lock on ${this.#usersFile}`);
    }
    return handle;
  }

  /**
   * Gives up a lease; the last user stops the server unless `db start` keeps
   * it. Call inside {@link exclusive}. Returns whether the server was stopped.
   */
  async leave(lease: FileHandle): Promise<boolean> {
    try {
      // Turning our shared lock into an exclusive one succeeds only when no other command holds a lease.
      const last = await flock(lease, 'exclusive', { wait: false });
      if (!last || (await this.isKept())) return false;
      return await this.cluster.stop();
    } finally {
      await lease.close();
    }
  }

  /** Whether any command holds a lease now. Call inside {@link exclusive}. */
  async inUse(): Promise<boolean> {
    const probe = await openOrCreatePrivateFile(this.#usersFile);
    try {
      return !(await flock(probe, 'exclusive', { wait: false }));
    } finally {
      await probe.close();
    }
  }

  /** Whether `authdb db start` asked to keep the server running. */
  async isKept(): Promise<boolean> {
    try {
      await readPrivateFile(this.#keepFile);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fileError(this.#keepFile, error);
    }
  }

  /** Marks the server as kept running (`db start`) or not (`db stop`). Call inside {@link exclusive}. */
  async keep(kept: boolean): Promise<void> {
    if (kept === (await this.isKept())) return;
    if (kept) await createPrivateFile(this.#keepFile, `kept running by \`authdb db start\` (pid ${process.pid})\n`);
    else await unlink(this.#keepFile);
  }
}

/** What {@link withEmbeddedCluster} tells `work`. */
export interface EmbeddedUse {
  /** Superuser URL of the running server. */
  readonly url: string;
  /** Whether this command created the cluster. */
  readonly created: boolean;
  /** Whether this command started the server. */
  readonly started: boolean;
}

/**
 * Runs `work` against the embedded cluster in `dir`: creates it when needed and
 * starts it when it is not running (serialised with other authdb processes by
 * the cluster's lock), holds a lease while `work` runs, and afterwards stops
 * the server if this was its last user and `authdb db start` does not keep
 * it — also when `work` fails or the process gets SIGINT or SIGTERM.
 */
export async function withEmbeddedCluster<T>(options: SessionOptions, work: (use: EmbeddedUse) => Promise<T>): Promise<T> {
  const session = new ClusterSession(options);
  const { cluster } = session;
  let lease: FileHandle | undefined;
  const { created, started, url } = await session.exclusive(async () => {
    const wasCreated = await cluster.initialise();
    const wasStarted = await cluster.start();
    lease = await session.join();
    return { created: wasCreated, started: wasStarted, url: await cluster.superuserUrl() };
  });
  let released: Promise<boolean> | undefined;
  const release = (): Promise<boolean> => {
    released ??= session.exclusive(() => (lease ? session.leave(lease) : Promise.resolve(false)));
    return released;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // A command that handles the signal itself (migrate up/down cancel the running
    // statement, report, and return) ends through `finally` below, which releases.
    if (process.listenerCount(signal) > 0) return;
    void release()
      .catch(() => false)
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    return await work({ url, created, started });
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    // A failure to stop is reported, but does not replace the command's own result or error.
    const stopped = await release().catch((error: unknown) => {
      options.log(`authdb: warning: could not release the embedded PostgreSQL in ${cluster.dir}: ${(error as Error).message}`);
      return false;
    });
    if (stopped) options.log(`authdb: stopped the embedded PostgreSQL in ${cluster.dir} (no other authdb command uses it)`);
  }
}
