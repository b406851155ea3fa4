import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanEnv, type CliResult } from './cli.js';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `scripts/<script>` of the repository with tsx, as its npm script does; never rejects on a non-zero exit. */
export function runScript(script: string, args: readonly string[], options: { readonly cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL(`../../scripts/${script}`, import.meta.url)), ...args],
      { cwd: options.cwd ?? REPOSITORY, env: cleanEnv(), maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(new Error(`cannot run scripts/${script}: ${error.message}`, { cause: error }));
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
