/**
 * The server floor: a path's statements run by pgbench with prepared
 * statements (-M prepared), so client-side cost is as small as it gets.
 * Each client runs transactions/concurrency operations on its own slots.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PathSpec } from './paths.js';
import type { Program } from './programs.js';
import { libpqTarget } from './server.js';

const run = promisify(execFile);

export interface RunMeasurement {
  readonly opsPerSecond: number;
  /** Per-operation latencies in milliseconds. */
  readonly latencies: readonly number[];
}

/** The pgbench script of a path: per-client slot counter, then the statements. */
export function pgbenchScript(path: PathSpec): string {
  const lines = ['\\set k :k + 1', '\\set slot :client_id * :per + :k'];
  if (path.transaction) lines.push('BEGIN;');
  path.statements.forEach((statement, i) => lines.push(i === path.gset ? `${statement} \\gset` : `${statement};`));
  if (path.transaction) lines.push('COMMIT;');
  return `${lines.join('\n')}\n`;
}

export async function runPgbench(
  pgbench: Program,
  url: string,
  path: PathSpec,
  options: { readonly tag: string; readonly concurrency: number; readonly transactions: number },
): Promise<RunMeasurement> {
  const dir = await mkdtemp(join(tmpdir(), 'authdb-pgbench-'));
  try {
    const script = join(dir, 'script.sql');
    await writeFile(script, pgbenchScript(path));
    const perClient = options.transactions / options.concurrency;
    const { uri, env } = libpqTarget(url);
    const args = [
      '--no-vacuum',
      '--protocol=prepared',
      `--client=${options.concurrency}`,
      `--jobs=${Math.min(options.concurrency, 2)}`,
      `--transactions=${perClient}`,
      '--define=k=0',
      `--define=per=${perClient}`,
      `--define=tag=${options.tag}`,
      `--file=${script}`,
      '--log',
      `--log-prefix=${join(dir, 'log')}`,
      uri,
    ];
    const { stdout } = await run(pgbench.path, args, { env, cwd: dir }).catch((error: unknown) => {
      const { stdout: out = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`pgbench failed on ${path.id} (c=${options.concurrency}): ${lastLines(`${out}\n${stderr}`)}`, { cause: error });
    });
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
    if (tps === undefined) throw new Error(`pgbench printed no tps for ${path.id}: ${lastLines(stdout)}`);
    return { opsPerSecond: Number(tps), latencies: await readLatencies(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** pgbench --log lines: client_id transaction_no time_us script_no epoch epoch_us. */
async function readLatencies(dir: string): Promise<number[]> {
  const latencies: number[] = [];
  for (const file of (await readdir(dir)).filter((name) => name.startsWith('log.'))) {
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
      const micros = line.split(' ')[2];
      if (micros !== undefined) latencies.push(Number(micros) / 1000);
    }
  }
  return latencies;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-6).join('\n');
}
