import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI_ENTRY, cleanEnv, type CliResult } from './cli.js';

/** A CLI run in progress: wait for what it prints, signal it, wait for its end. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves when stderr contains `text` (rejects if the process ends first). */
  stderrContains(text: string): Promise<void>;
  readonly result: Promise<CliResult>;
}

export interface StartCliOptions {
  readonly cwd: string;
  /** Added to the clean environment. Default is none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this OS user (the test runs as root). Default is the current user. */
  readonly uid?: number;
  readonly gid?: number;
}

/** Starts `node dist/cli/main.js ...args` without waiting for it. */
export function startCli(args: readonly string[], options: StartCliOptions): CliProcess {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const waiter of waiters.filter((w) => stderr.includes(w.text))) waiter.resolve();
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
  return {
    child,
    result,
    stderrContains: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stderr.includes(text)) {
          resolve();
          return;
        }
        waiters.push({ text, resolve });
        void result.then((end) => {
          if (!end.stderr.includes(text)) reject(new Error(`the CLI ended (exit ${end.code}) without printing "${text}"; stderr:\n${end.stderr}`));
        });
      }),
  };
}

/** Command lines of running processes that mention `text` (a data directory). */
export async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ps', ['-eo', 'args']);
  return stdout.split('\n').filter((line) => line.includes(text) && !line.startsWith('ps '));
}
