import { spawn } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';

/** `shared` for the users of a running cluster, `exclusive` for the one creating, starting or stopping it. */
export type LockMode = 'shared' | 'exclusive';

/** A program that applies flock(2) to the file descriptor it inherits as fd 3. */
export type FlockProgram = 'flock' | 'perl';

/** Tried in this order: util-linux `flock`, else Perl (macOS, where flock(1) is missing). */
export const FLOCK_PROGRAMS: readonly FlockProgram[] = ['flock', 'perl'];

export interface FlockOptions {
  /** Wait for the lock (`true`) or give up at once when another holds it. */
  readonly wait: boolean;
  /** Give up waiting after this long. Default is no limit. */
  readonly timeoutMs?: number;
  /** Force one program (tests cover both). Default is the first of {@link FLOCK_PROGRAMS} installed. */
  readonly program?: FlockProgram;
}

/**
 * Takes a flock(2) lock on the open file of `handle`. Node has no flock, so a
 * short-lived child (`flock` or `perl`) locks the file description it
 * inherits as fd 3, which this process shares: the lock stays when the child
 * exits and is released when `handle` is closed — or by the kernel when this
 * process dies, so a crashed command never leaves a stale lock.
 *
 * Resolves `true` when locked, `false` when another process holds a
 * conflicting lock (`wait: false`) or `timeoutMs` passed; after `false`,
 * close `handle` (a child killed at the timeout may just have locked it).
 */
export async function flock(handle: FileHandle, mode: LockMode, options: FlockOptions): Promise<boolean> {
  for (const program of options.program ? [options.program] : FLOCK_PROGRAMS) {
    const result = await runFlock(program, handle, mode, options);
    if (result !== 'missing') return result;
  }
  throw new Error('locking the embedded cluster needs flock(1) (util-linux) or perl, and neither is installed; install util-linux, or use --database-url');
}

function runFlock(program: FlockProgram, handle: FileHandle, mode: LockMode, options: FlockOptions): Promise<boolean | 'missing'> {
  const args =
    program === 'flock'
      ? [mode === 'shared' ? '--shared' : '--exclusive', ...(options.wait ? [] : ['--nonblock']), '3']
      : [
          '-MFcntl=:flock',
          '-e',
          'open(my $f, "<&=", 3) or exit 3; exit(flock($f, $ARGV[0]) ? 0 : 1)',
          String((mode === 'shared' ? 1 : 2) | (options.wait ? 0 : 4)), // LOCK_SH | LOCK_EX, LOCK_NB
        ];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe', handle.fd] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') resolve('missing');
      else reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(true);
      else if (code === 1 || signal === 'SIGKILL') resolve(false); // conflict, or gave up waiting
      else reject(new Error(`${program} could not lock the file (${code === null ? `signal ${signal ?? '?'}` : `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}
