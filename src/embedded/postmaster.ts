import { execFile } from 'node:child_process';
import { readlink, stat } from 'node:fs/promises';
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
 * Whether `pid` is a live `postgres` process of OS user `uid` — what a
 * postmaster of this cluster must be. A pid that was reused by any other
 * process (after the server was killed) is not.
 */
export async function isPostgresProcess(pid: number, uid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // ESRCH: gone. EPERM: another user's process, and this cluster's server runs as `uid`, which we may signal.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM' || uid !== process.getuid?.()) return false;
  }
  if (process.platform === 'linux') {
    const owner = await stat(`/proc/${pid}`).then((info) => info.uid, () => undefined);
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => undefined);
    return owner === uid && exe !== undefined && basename(exe.replace(/ \(deleted\)$/, '')) === 'postgres';
  }
  const { stdout } = await promisify(execFile)('ps', ['-o', 'uid=,comm=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  const [owner, command] = stdout.trim().split(/\s+/);
  return Number(owner) === uid && basename(command ?? '') === 'postgres';
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
