/**
 * Section 4: migration timing. `authdb migrate up` on an empty database
 * against what it cannot beat: psql applying the same files in one
 * transaction, plus Node's own start-up (the CLI is a Node program);
 * `authdb migrate status` on an up-to-date database.
 */
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Program } from './programs.js';
import { libpqTarget, migrate, type BenchServer } from './server.js';
import { median, round } from './stats.js';

const run = promisify(execFile);

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

export interface MigrationRow {
  readonly command: string;
  /** Wall time of the whole process: median over repeats, and every repeat. */
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

export interface MigrationTiming {
  readonly files: number;
  readonly rows: readonly MigrationRow[];
  /** migrate up / (psql --single-transaction + node start-up). */
  readonly upVersusFloor: number | undefined;
  readonly notes: readonly string[];
}

export async function measureMigration(server: BenchServer, psql: Program | undefined, repeats: number): Promise<MigrationTiming> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.up.sql')).sort();
  const notes: string[] = [];
  const rows: MigrationRow[] = [];
  const cliBuilt = await stat(CLI).then(
    () => true,
    () => false,
  );
  if (!cliBuilt) notes.push(`authdb rows skipped: ${CLI} is missing (npm run build)`);
  if (!psql) notes.push('psql rows skipped: psql not found (no Debian postgresql package, not on PATH)');

  const times = { up: [] as number[], psql: [] as number[], node: [] as number[], status: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    if (cliBuilt) {
      const url = await server.createDatabase(`mu${i}`);
      times.up.push(await timeProcess(process.execPath, [CLI, 'migrate', 'up'], { ...process.env, DATABASE_URL: url }));
    }
    if (psql) {
      const { uri, env } = libpqTarget(await server.createDatabase(`mp${i}`));
      const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', ...files.flatMap((f) => ['-f', `${MIGRATIONS_DIR}${f}`]), uri];
      times.psql.push(await timeProcess(psql.path, args, env));
    }
    times.node.push(await timeProcess(process.execPath, ['-e', ''], process.env));
  }
  if (cliBuilt) {
    const url = await server.createDatabase('ms');
    await migrate(url);
    for (let i = 0; i < repeats; i++) times.status.push(await timeProcess(process.execPath, [CLI, 'migrate', 'status'], { ...process.env, DATABASE_URL: url }));
  }
  const row = (command: string, runs: number[]): MigrationRow[] => (runs.length === 0 ? [] : [{ command, medianMs: round(median(runs)), runsMs: runs.map((t) => round(t)) }]);
  rows.push(
    ...row(`authdb migrate up (empty database, ${files.length} files)`, times.up),
    ...row(`psql --single-transaction -f (the same ${files.length} files)`, times.psql),
    ...row('node -e "" (Node start-up)', times.node),
    ...row('authdb migrate status (up to date)', times.status),
  );
  const floor = median(times.psql) + median(times.node);
  return { files: files.length, rows, upVersusFloor: times.up.length && times.psql.length ? round(median(times.up) / floor) : undefined, notes };
}

async function timeProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(file, args, { env }).catch((error: unknown) => {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`${file.split('/').pop() ?? file} ${args[0] ?? ''} ${args[1] ?? ''} failed: ${stderr.trim().split('\n').slice(-4).join('\n')}`, { cause: error });
  });
  return performance.now() - started;
}
