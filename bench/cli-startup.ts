/**
 * Section 4: the CLI's start-up, each command against what it cannot beat,
 * in interleaved rounds (one of each per round, so a busy moment of the
 * machine hits every row alike):
 *
 *   authdb --help                                   ÷ node -e "" (Node's start-up)
 *   authdb migrate status (up-to-date database)     ÷ node -e ""
 *   authdb migrate up (empty database, shipped files) ÷ (psql -f the same files, one transaction each
 *                                                     but a no-transaction file's, + node -e "")
 *
 * Wall time of the whole process. Reported with the spread, never asserted.
 * BENCH_CLI times another build of the CLI (a main.js), for before/after.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseDirectives } from '../src/migrate/migration-file.js';
import type { Program } from './programs.js';
import { libpqTarget, migrate, type BenchServer } from './server.js';
import { median, round, spread, type Spread } from './stats.js';

const run = promisify(execFile);

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const DEFAULT_CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

export interface StartupRow {
  readonly command: string;
  /** Wall time of the whole process over the rounds: median, min, max; and every round's. */
  readonly ms: Spread;
  readonly runsMs: readonly number[];
}

export interface StartupRatio {
  readonly name: string;
  /** Ratio of the medians. */
  readonly ratio: number;
  /** Lowest and highest ratio within one round. */
  readonly roundRange: readonly [number, number];
  readonly target: number;
  readonly met: boolean;
}

export interface CliStartup {
  readonly cli: string;
  readonly files: number;
  readonly rounds: number;
  readonly rows: readonly StartupRow[];
  readonly ratios: readonly StartupRatio[];
  readonly notes: readonly string[];
}

type Key = 'node' | 'help' | 'status' | 'up' | 'psql';

export async function measureCliStartup(server: BenchServer, psql: Program | undefined, rounds: number, cli = DEFAULT_CLI): Promise<CliStartup> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.up.sql')).sort();
  const notes: string[] = [];
  const cliBuilt = await stat(cli).then(
    () => true,
    () => false,
  );
  if (!cliBuilt) notes.push(`authdb rows skipped: ${cli} is missing (npm run build)`);
  if (!psql) notes.push('psql rows skipped: psql not found (no Debian postgresql package, not on PATH)');
  const statusUrl = cliBuilt ? await server.createDatabase('cs') : undefined;
  if (statusUrl) await migrate(statusUrl);

  const psqlFileArgs = await psqlArguments(files);
  const times: Record<Key, number[]> = { node: [], help: [], status: [], up: [], psql: [] };
  // One warm-up of each (file cache, the server's first connections), not counted.
  for (let i = -1; i < rounds; i++) {
    const round: Partial<Record<Key, number>> = {};
    round.node = await timeProcess(process.execPath, ['-e', ''], process.env);
    if (cliBuilt && statusUrl) {
      round.help = await timeProcess(process.execPath, [cli, '--help'], process.env);
      round.status = await timeProcess(process.execPath, [cli, 'migrate', 'status'], { ...process.env, DATABASE_URL: statusUrl });
      const url = await server.createDatabase(`cu${i + 1}`);
      round.up = await timeProcess(process.execPath, [cli, 'migrate', 'up'], { ...process.env, DATABASE_URL: url });
    }
    if (psql) {
      const { uri, env } = libpqTarget(await server.createDatabase(`cp${i + 1}`));
      const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...psqlFileArgs, uri];
      round.psql = await timeProcess(psql.path, args, env);
    }
    if (i < 0) continue;
    for (const [key, value] of Object.entries(round) as [Key, number][]) times[key].push(value);
  }
  const row = (command: string, runs: number[]): StartupRow[] =>
    runs.length === 0 ? [] : [{ command, ms: roundSpread(spread(runs)), runsMs: runs.map((t) => round(t)) }];
  const rows = [
    ...row('node -e "" (Node start-up)', times.node),
    ...row('authdb --help', times.help),
    ...row('authdb migrate status (up to date)', times.status),
    ...row(`authdb migrate up (empty database, ${files.length} files)`, times.up),
    ...row(`psql -f (the same ${files.length} files, each in its transaction as authdb runs it)`, times.psql),
  ];
  const ratios: StartupRatio[] = [];
  const ratio = (name: string, target: number, top: readonly number[], bottom: readonly number[]): void => {
    if (top.length === 0 || top.length !== bottom.length) return;
    const perRound = top.map((t, i) => t / (bottom[i] ?? Number.NaN));
    const value = round(median(top) / median(bottom));
    ratios.push({ name, ratio: value, roundRange: [round(Math.min(...perRound)), round(Math.max(...perRound))], target, met: value <= target });
  };
  ratio('authdb --help ÷ Node start-up', 1.3, times.help, times.node);
  ratio('authdb migrate status ÷ Node start-up', 1.5, times.status, times.node);
  ratio(
    'authdb migrate up ÷ (psql + Node start-up)',
    1.5,
    times.up,
    times.psql.map((p, i) => p + (times.node[i] ?? Number.NaN)),
  );
  return { cli: cli === DEFAULT_CLI ? 'dist/cli/main.js' : resolve(cli), files: files.length, rounds, rows, ratios, notes };
}

/** The rows and ratios as Markdown. */
export function formatCliStartup(s: CliStartup): string {
  const out = [
    `**CLI start-up** (wall time of the process, ${s.rounds} interleaved rounds after one warm-up; median, min–max in brackets${s.cli === 'dist/cli/main.js' ? '' : `; CLI ${s.cli}`}):`,
    '',
    '| command | median ms (min–max) | runs ms |',
    '|---|--:|---|',
    ...s.rows.map((r) => `| ${r.command} | ${r.ms.median.toFixed(0)} (${r.ms.min.toFixed(0)}–${r.ms.max.toFixed(0)}) | ${r.runsMs.map((t) => t.toFixed(0)).join(', ')} |`),
    '',
    '| ratio | median (lowest–highest within a round) | target |',
    '|---|--:|--:|',
    ...s.ratios.map((x) => `| ${x.name} | ${x.ratio.toFixed(2)} (${x.roundRange[0].toFixed(2)}–${x.roundRange[1].toFixed(2)}) ${x.met ? 'meets' : 'misses'} | ≤ ${x.target} |`),
    ...s.notes.flatMap((note) => ['', note]),
  ];
  return out.join('\n');
}

function roundSpread(s: Spread): Spread {
  return { median: round(s.median), min: round(s.min), max: round(s.max) };
}

async function timeProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(file, args, { env }).catch((error: unknown) => {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`${file.split('/').pop() ?? file} ${args[0] ?? ''} ${args[1] ?? ''} failed: ${stderr.trim().split('\n').slice(-4).join('\n')}`, { cause: error });
  });
  return performance.now() - started;
}

/**
 * psql's arguments for the shipped files in one process, each file in its own
 * transaction (`-c BEGIN -f FILE -c COMMIT`) as authdb runs it, except a
 * `-- authdb:no-transaction` file (CREATE INDEX CONCURRENTLY cannot run in one).
 */
async function psqlArguments(files: readonly string[]): Promise<string[]> {
  const args: string[] = [];
  for (const file of files) {
    const path = `${MIGRATIONS_DIR}${file}`;
    const { transaction } = parseDirectives(await readFile(path, 'utf8'));
    args.push(...(transaction ? ['-c', 'BEGIN', '-f', path, '-c', 'COMMIT'] : ['-f', path]));
  }
  return args;
}
