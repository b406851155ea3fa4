import { execFile } from 'node:child_process';
import { readlink, realpath, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename } from 'node:path';
import { promisify } from 'node:util';

/** What `postmaster.pid` records (PostgreSQL writes one field per line). */
export interface PostmasterPid {
  readonly pid: number;
  readonly port?: number;
}

/** Parses `postmaster.pid`; `undefined` when its first line is not a pid. */
export function parsePostmasterPid(text: string): PostmasterPid | undefined {
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number(lines[3]);
  return Number.isInteger(port) && port > 0 ? { pid, port } : { pid };
}

/**
 * Whether `pid` is the postmaster of the cluster in `dataDir`: a live
 * `postgres` process of OS user `uid` whose working directory is that data
 * directory (the postmaster changes into it at start, and the kernel reports
 * it). A pid reused by any other process after the server was killed is
 * not, and neither is another PostgreSQL server of the same OS user.
 */
export async function isPostmasterOf(pid: number, uid: number, dataDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // ESRCH: gone. EPERM: another user's process, and this cluster's server runs as `uid`, which we may signal.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM' || uid !== process.getuid?.()) return false;
  }
  const [seen, expected] = await Promise.all([processInfo(pid), realpath(dataDir).catch(() => undefined)]);
  return seen !== undefined && expected !== undefined && seen.uid === uid && seen.command === 'postgres' && seen.cwd === expected;
}

/** The owner, executable name and working directory of `pid`, as the kernel reports them; undefined when it cannot tell. */
async function processInfo(pid: number): Promise<{ uid: number; command: string; cwd: string } | undefined> {
  if (process.platform === 'linux') {
    const [owner, exe, cwd] = await Promise.all([
      stat(`/proc/${pid}`).then((info) => info.uid, () => undefined),
      readlink(`/proc/${pid}/exe`).catch(() => undefined),
      readlink(`/proc/${pid}/cwd`).catch(() => undefined),
    ]);
    if (owner === undefined || exe === undefined || cwd === undefined) return undefined;
    return { uid: owner, command: basename(exe.replace(/ \(deleted\)$/, '')), cwd };
  }
  const run = promisify(execFile);
  const [ps, lsof] = await Promise.all([
    run('ps', ['-o', 'uid=,comm=', '-p', String(pid)]).catch(() => ({ stdout: '' })),
    run('lsof', ['-a', '-p', String(pid), '-d', 'cwd', '-Fn']).catch(() => ({ stdout: '' })),
  ]);
  const [owner, command] = ps.stdout.trim().split(/\s+/);
  const cwd = lsof.stdout.split('\n').find((line) => line.startsWith('n'))?.slice(1);
  if (owner === undefined || command === undefined || cwd === undefined) return undefined;
  return { uid: Number(owner), command: basename(command), cwd };
}

/** How long {@link answers} waits for the server. Default is 5 seconds. */
export const DEFAULT_PING_TIMEOUT_MS = 5000;

/**
 * Whether a PostgreSQL server answers on 127.0.0.1:`port`, as `pg_ctl`'s
 * PQping asks: it sends an SSLRequest and expects `S` or `N` (the server
 * logs nothing for a client that then hangs up).
 */
export function answers(port: number, timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => { done(false); });
    socket.once('error', () => { done(false); });
    socket.once('connect', () => {
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4); // SSLRequest code
      socket.write(request);
    });
    socket.once('data', (data) => { done(data.length >= 1 && (data[0] === 0x53 || data[0] === 0x4e)); });
  });
}
