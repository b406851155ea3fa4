/**
 * Apply and lint time of large migration files (seed data: one INSERT per
 * row, with multi-byte text and semicolons inside strings), at 1, 4 and 16 MB:
 * statement splitting and lint must stay linear in the file's size.
 *
 * The bench databases run with `synchronous_commit = off`, so a no-transaction
 * file's one-commit-per-statement measures authdb rather than the disk's fsync.
 *
 * Runnable alone (`npx tsx bench/migration-files.ts`: BENCH_DATABASE_URL,
 * else a throwaway embedded cluster; BENCH_FILE_SIZES_MB, default `1,4,16`),
 * or from another bench through {@link benchMigrationFiles}.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { EmbeddedCluster } from '../src/embedded/cluster.js';
import { lintFiles } from '../src/lint/lint.js';
import { Migrator } from '../src/migrate/migrator.js';

/** Default file sizes, in MiB. */
export const DEFAULT_FILE_SIZES_MB: readonly number[] = [1, 4, 16];

/** One file size: how long `migrate up` and `authdb lint` took on it. */
export interface MigrationFileRow {
  readonly sizeMb: number;
  readonly statements: number;
  /** `migrate up` of the file as a transactional migration, in seconds. */
  readonly applySeconds: number;
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
}

const TABLE = '20260101000001_seed_table';
const SEED = '20260101000002_seed_rows';

/** Measures every size on the server at `adminUrl`; each size gets a database of its own, dropped after. */
export async function benchMigrationFiles(options: MigrationFileBenchOptions): Promise<MigrationFileRow[]> {
  const rows: MigrationFileRow[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'authdb-bench-files-'));
  try {
    for (const sizeMb of options.sizesMb ?? DEFAULT_FILE_SIZES_MB) {
      const { sql, statements } = seedFile(sizeMb);
      const applySeconds = await timeApply(options.adminUrl, dir, sql);
      const applyNoTransactionSeconds = await timeApply(options.adminUrl, dir, `-- authdb:no-transaction\n${sql}`);
      const path = join(dir, `${SEED}.up.sql`);
      await writeFile(path, sql);
      const started = performance.now();
      const report = await lintFiles([path]);
      const lintSeconds = (performance.now() - started) / 1000;
      if (report.findings.length > 0) throw new Error(`the seed file should lint clean: ${JSON.stringify(report.findings[0])}`);
      rows.push({ sizeMb, statements, applySeconds, applyNoTransactionSeconds, lintSeconds });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** The rows as a Markdown table. */
export function formatMigrationFileRows(rows: readonly MigrationFileRow[]): string {
  const header = '| file | statements | migrate up (s) | up, no-transaction (s) | lint (s) |\n|--:|--:|--:|--:|--:|';
  const lines = rows.map(
    (r) => `| ${r.sizeMb} MB | ${r.statements} | ${r.applySeconds.toFixed(1)} | ${r.applyNoTransactionSeconds.toFixed(1)} | ${r.lintSeconds.toFixed(1)} |`,
  );
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

async function timeApply(adminUrl: string, dir: string, seedSql: string): Promise<number> {
  await writeFile(join(dir, `${TABLE}.up.sql`), 'CREATE TABLE seed (id int PRIMARY KEY, name text, email text, note text);\n');
  await writeFile(join(dir, `${TABLE}.down.sql`), 'DROP TABLE seed;\n');
  await writeFile(join(dir, `${SEED}.up.sql`), seedSql);
  await writeFile(join(dir, `${SEED}.down.sql`), 'DELETE FROM seed;\n');
  const database = `authdb_bench_files_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    // What is measured is authdb (reading, parsing, splitting, one round trip per statement), not the
    // disk: without this, each statement of a no-transaction file waits for its own WAL flush.
    await admin.query(`ALTER DATABASE ${database} SET synchronous_commit = off`);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const migrator = new Migrator({ client, migrationsDir: dir });
      await migrator.up({ to: TABLE });
      const started = performance.now();
      await migrator.up();
      return (performance.now() - started) / 1000;
    } finally {
      await client.end();
    }
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
