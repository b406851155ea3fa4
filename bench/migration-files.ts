/**
 * Apply and lint time of large migration files (seed data: one INSERT per
 * row, with multi-byte text and semicolons inside strings), at 1, 4 and 16 MB:
 * statement splitting and lint must stay linear in the file's size, `migrate
 * up` within 1.5 times psql's time for the same file, and the CLI's peak
 * memory proportional to the file (issue 18 §5).
 *
 * `migrate up` runs as the CLI does for a user (`node dist/cli/main.js`, a
 * process of its own, whose peak resident set Node reports at exit); psql
 * runs the same file in one transaction (`-c BEGIN -f FILE -c COMMIT`), each
 * in a fresh database holding the table. The bench databases run with
 * `synchronous_commit = off`, so a no-transaction file's one commit per
 * statement measures authdb rather than the disk's fsync.
 *
 * Runnable alone (`npx tsx bench/migration-files.ts`: BENCH_DATABASE_URL,
 * else a throwaway embedded cluster; BENCH_FILE_SIZES_MB, default `1,4,16`),
 * or from another bench through {@link benchMigrationFiles}.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { EmbeddedCluster } from '../src/embedded/cluster.js';
import { lintFiles } from '../src/lint/lint.js';
import { findProgram, type Program } from './programs.js';
import { libpqTarget } from './server.js';

const run = promisify(execFile);

/** Default file sizes, in MiB. */
export const DEFAULT_FILE_SIZES_MB: readonly number[] = [1, 4, 16];

/** The target: `migrate up` of a file within this multiple of psql's time for it. */
export const PSQL_RATIO_TARGET = 1.5;

/** One file size: how long `migrate up`, psql and `authdb lint` took on it, and the CLI's peak memory. */
export interface MigrationFileRow {
  readonly sizeMb: number;
  readonly statements: number;
  /** `authdb migrate up` of the file as a transactional migration (the CLI process, start to exit), in seconds. */
  readonly applySeconds: number;
  /** Peak resident set of that CLI process, in MiB. */
  readonly applyPeakMb: number;
  /** psql running the file in one transaction, in seconds; undefined without psql. */
  readonly psqlSeconds: number | undefined;
  /** The same file with `-- authdb:no-transaction` (statements run one by one in autocommit). */
  readonly applyNoTransactionSeconds: number;
  /** `lintFiles` on the file, in seconds. */
  readonly lintSeconds: number;
}

export interface MigrationFileBenchOptions {
  /** A superuser URL of a server the bench may create (and drop) databases on. */
  readonly adminUrl: string;
  /** Default is {@link DEFAULT_FILE_SIZES_MB}. */
  readonly sizesMb?: readonly number[];
  /** Default: Debian's newest, else psql on PATH; the psql column is left empty without one. */
  readonly psql?: Program | undefined;
}

const TABLE = '20260101000001_seed_table';
const SEED = '20260101000002_seed_rows';
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** Loaded into the CLI process: prints its peak resident set (KiB) when it exits. */
const REPORT_MAX_RSS = 'data:text/javascript,process.on("exit",()=>process.stderr.write("\\nauthdb-bench-maxrss-kib:"+process.resourceUsage().maxRSS+"\\n"))';

/** Measures every size on the server at `adminUrl`; each run gets a database of its own, dropped after. */
export async function benchMigrationFiles(options: MigrationFileBenchOptions): Promise<MigrationFileRow[]> {
  const rows: MigrationFileRow[] = [];
  const psql = options.psql ?? (await findProgram('psql'));
  const dir = await mkdtemp(join(tmpdir(), 'authdb-bench-files-'));
  try {
    for (const sizeMb of options.sizesMb ?? DEFAULT_FILE_SIZES_MB) {
      const { sql, statements } = seedFile(sizeMb);
      const apply = await timeCli(options.adminUrl, dir, sql);
      const applyNoTransaction = await timeCli(options.adminUrl, dir, `-- authdb:no-transaction\n${sql}`);
      const psqlSeconds = psql ? await timePsql(options.adminUrl, psql, dir, sql) : undefined;
      const path = join(dir, `${SEED}.up.sql`);
      await writeFile(path, sql);
      const started = performance.now();
      const report = await lintFiles([path]);
      const lintSeconds = (performance.now() - started) / 1000;
      if (report.findings.length > 0) throw new Error(`the seed file should lint clean: ${JSON.stringify(report.findings[0])}`);
      rows.push({ sizeMb, statements, applySeconds: apply.seconds, applyPeakMb: apply.peakMb, psqlSeconds, applyNoTransactionSeconds: applyNoTransaction.seconds, lintSeconds });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a Markdown table. */
export function formatMigrationFileRows(rows: readonly MigrationFileRow[]): string {
  const header =
    `| file | statements | migrate up (s) | psql (s) | up ÷ psql (target ≤ ${PSQL_RATIO_TARGET}) | CLI peak memory (MiB) | peak ÷ file size | up, no-transaction (s) | lint (s) |\n` +
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|';
  const lines = rows.map((r) => {
    const ratio = r.psqlSeconds === undefined ? undefined : r.applySeconds / r.psqlSeconds;
    const versus = ratio === undefined ? '–' : `${ratio.toFixed(2)} ${ratio <= PSQL_RATIO_TARGET ? 'meets' : 'misses'}`;
    return (
      `| ${r.sizeMb} MB | ${r.statements} | ${r.applySeconds.toFixed(1)} | ${r.psqlSeconds?.toFixed(1) ?? '–'} | ${versus} | ` +
      `${r.applyPeakMb.toFixed(0)} | ${(r.applyPeakMb / r.sizeMb).toFixed(1)} | ${r.applyNoTransactionSeconds.toFixed(1)} | ${r.lintSeconds.toFixed(1)} |`
    );
  });
  return [header, ...lines].join('\n');
}

/** A seed file of about `sizeMb` MiB: one INSERT per row, with multi-byte text and semicolons in strings. */
function seedFile(sizeMb: number): { sql: string; statements: number } {
  const parts: string[] = [];
  let bytes = 0;
  let i = 0;
  while (bytes < sizeMb * 1024 * 1024) {
    const line = `INSERT INTO seed (id, name, email, note) VALUES (${i}, 'name ${i}', 'user${i}@example.com', 'café ; -- not a comment ${i}');\n`;
    parts.push(line);
    bytes += Buffer.byteLength(line);
    i++;
  }
  return { sql: parts.join(''), statements: i };
}

/** `authdb migrate up` of the seed file in a new database where the table exists: wall time and peak memory of the CLI process. */
async function timeCli(adminUrl: string, dir: string, seedSql: string): Promise<{ seconds: number; peakMb: number }> {
  await writeFile(join(dir, `${TABLE}.up.sql`), 'CREATE TABLE seed (id int PRIMARY KEY, name text, email text, note text);\n');
  await writeFile(join(dir, `${TABLE}.down.sql`), 'DROP TABLE seed;\n');
  await writeFile(join(dir, `${SEED}.up.sql`), seedSql);
  await writeFile(join(dir, `${SEED}.down.sql`), 'DELETE FROM seed;\n');
  return withDatabase(adminUrl, async (url) => {
    const env = { ...process.env, DATABASE_URL: url };
    await run(process.execPath, [CLI, 'migrate', 'up', '--migrations-dir', dir, '--to', TABLE], { env });
    const started = performance.now();
    const { stderr } = await run(process.execPath, [`--import=${REPORT_MAX_RSS}`, CLI, 'migrate', 'up', '--migrations-dir', dir], { env, maxBuffer: 64 * 1024 * 1024 });
    const seconds = (performance.now() - started) / 1000;
    const kib = /authdb-bench-maxrss-kib:(\d+)/.exec(stderr)?.[1];
    if (kib === undefined) throw new Error(`the CLI did not report its peak memory: ${stderr.slice(-500)}`);
    return { seconds, peakMb: Number(kib) / 1024 };
  });
}

/** psql running the seed file in one transaction, in a new database where the table exists. */
async function timePsql(adminUrl: string, psql: Program, dir: string, seedSql: string): Promise<number> {
  const path = join(dir, `${SEED}.up.sql`);
  await writeFile(path, seedSql);
  return withDatabase(adminUrl, async (url) => {
    const { uri, env } = libpqTarget(url);
    const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', uri];
    await run(psql.path, [...args, '-c', 'CREATE TABLE seed (id int PRIMARY KEY, name text, email text, note text)'], { env });
    const started = performance.now();
    await run(psql.path, [...args, '-c', 'BEGIN', '-f', path, '-c', 'COMMIT'], { env, maxBuffer: 64 * 1024 * 1024 });
    return (performance.now() - started) / 1000;
  });
}

async function withDatabase<T>(adminUrl: string, work: (url: string) => Promise<T>): Promise<T> {
  const database = `authdb_bench_files_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    // What is measured is the client (reading, parsing, sending), not the disk: without this,
    // each statement of a no-transaction file waits for its own WAL flush.
    await admin.query(`ALTER DATABASE ${database} SET synchronous_commit = off`);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

async function withServer<T>(work: (adminUrl: string) => Promise<T>): Promise<T> {
  if (process.env.BENCH_DATABASE_URL) return work(process.env.BENCH_DATABASE_URL);
  const dir = await mkdtemp(join(tmpdir(), 'authdb-bench-'));
  const cluster = new EmbeddedCluster({ dir });
  try {
    await cluster.initialise();
    await cluster.start();
    return await work(await cluster.superuserUrl());
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizesMb = process.env.BENCH_FILE_SIZES_MB?.split(',').map(Number) ?? DEFAULT_FILE_SIZES_MB;
  await withServer(async (adminUrl) => {
    console.log(`authdb bench: migration files of ${sizesMb.join(', ')} MB (apply and lint time; Node ${process.version})\n`);
    console.log(formatMigrationFileRows(await benchMigrationFiles({ adminUrl, sizesMb })));
  }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
