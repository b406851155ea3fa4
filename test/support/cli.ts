import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Output } from '../../src/cli/output.js';
import { main } from '../../src/cli/run.js';

/** Exit code and everything a CLI run printed. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCliOptions {
  /** Added to {@link cleanEnv}. Default is none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. Default is the repository root. */
  readonly cwd?: string;
}

/** The built entry point; `npm test` builds it first (`npm run build`). */
export const CLI_ENTRY = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Variables that choose a server or change output; removed from every child's environment. */
const CONNECTION_ENV = /^(PG[A-Z]+|DATABASE_URL|TEST_DATABASE_URL|AUTHDB_[A-Z_]+|NO_COLOR|FORCE_COLOR)$/;

/**
 * `stderr` without the warning that a URL option carries a password (the
 * test servers' URLs do), for tests about everything else a command prints.
 */
export function withoutPasswordWarning(stderr: string): string {
  return stderr.replace(/^authdb: warning: the URL given with --[a-z-]+ carries a password.*\n/gm, '');
}

/** This process's environment without anything that chooses a server or colors output. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONNECTION_ENV.test(name)));
  return { ...env, ...extra };
}

/** Runs `node dist/cli/main.js ...args` in a child process; settles when it exits. */
export async function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} does not exist; run \`npm run build\` first (\`npm test\` does)`);
  return runProcess(process.execPath, [CLI_ENTRY, ...args], { cwd: options.cwd ?? fileURLToPath(new URL('../..', import.meta.url)), env: cleanEnv(options.env) });
}

/** Runs `command` in a child process with no stdin, collecting its output; settles when it exits (128 when a signal ended it). */
export function runProcess(command: string, args: readonly string[], options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

/**
 * Runs the CLI in this process (the same `main` that `dist/cli/main.js`
 * calls), which is much faster than a child process. The command sees
 * exactly `env` (though pg itself still reads PG* from `process.env`).
 */
export async function runMain(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const output: Output = {
    out: (line) => void stdout.push(`${line}\n`),
    err: (line) => void stderr.push(`${line}\n`),
    color: (_name, text) => text,
  };
  const code = await main(args, output, env);
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}
