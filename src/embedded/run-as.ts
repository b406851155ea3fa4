import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { ServerAccount } from './os-user.js';

/** What a program printed. */
export interface RunOutput {
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunAsOptions {
  /** Written to the program's stdin, which is then closed. Default is no stdin. */
  readonly input?: string;
  /** Name of the program in error messages. Default is the file's base name. */
  readonly name?: string;
}

/**
 * Runs `file` as the server's OS user, with `input` (if any) on its stdin —
 * how secrets reach initdb and single-user mode, never through a file or the
 * command line. Rejects with the program's stderr when it fails.
 */
export function runAs(account: ServerAccount, file: string, args: readonly string[], options: RunAsOptions = {}): Promise<RunOutput> {
  const { input } = options;
  const ids = account.uid !== undefined && account.gid !== undefined ? { uid: account.uid, gid: account.gid } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...ids,
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin?.on('error', () => undefined); // the program may exit before reading everything
    child.stdin?.end(input);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${options.name ?? basename(file)} failed (${code === null ? `signal ${signal ?? '?'}` : `exit ${code}`}): ${stderr.trim() || stdout.trim()}`));
    });
  });
}
