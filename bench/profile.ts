/**
 * Section 5 (findings, never targets): where the paths spend their work.
 * WAL per operation (pg_current_wal_lsn, and record types from pg_walinspect
 * when it can be created), multixacts per registration under concurrency
 * (mxid_age of the database's datminmxid grows with every new multixact),
 * and the statements inside register_user_with_token by time
 * (pg_stat_statements with track = all, when the server preloads it; the
 * embedded cluster is restarted with it for this section).
 */
import type pg from 'pg';
import { runDriverPath } from './driver.js';
import { bulkLoad } from './fixtures.js';
import { SQL_PATHS } from './paths.js';
import { RUN_ID, migrate, openPool, withAdmin, type BenchServer } from './server.js';
import { round } from './stats.js';

/** Operations per path of the profile. Default is 500. */
export const DEFAULT_PROFILE_OPERATIONS = 500;

/** Sessions of the multixact and pg_stat_statements runs. Default is 4. */
export const DEFAULT_PROFILE_CONCURRENCY = 4;

/** Server settings the embedded cluster is restarted with for this section. */
export const PROFILE_SETTINGS: Readonly<Record<string, string>> = {
  shared_preload_libraries: "'pg_stat_statements'",
  'pg_stat_statements.track': "'all'",
};

export interface WalRow {
  readonly path: string;
  readonly walBytesPerOp: number;
  /** WAL bytes per operation without full-page images (which depend on when the last checkpoint ran). */
  readonly walRecordBytesPerOp: number | undefined;
  /** Record type (resource manager/record) → records per operation; empty without pg_walinspect. */
  readonly recordsPerOp: Readonly<Record<string, number>>;
  /** Bytes of full-page images per operation (part of walBytesPerOp); undefined without pg_walinspect. */
  readonly fullPageImageBytesPerOp: number | undefined;
  /** At concurrency DEFAULT_PROFILE_CONCURRENCY. */
  readonly multixactsPerOp: number;
}

export interface StatementRow {
  readonly query: string;
  readonly toplevel: boolean | undefined;
  readonly calls: number;
  readonly totalMs: number;
  readonly meanMs: number;
  readonly sharedBlocksDirtied: number;
  readonly walBytes: number;
}

export interface Profile {
  readonly operations: number;
  readonly wal: readonly WalRow[];
  readonly statements: readonly StatementRow[];
  readonly notes: readonly string[];
}

export async function profilePaths(server: BenchServer, log: (line: string) => void): Promise<Profile> {
  const notes: string[] = [];
  if (server.restartWith) {
    await server.restartWith(PROFILE_SETTINGS);
    log('  embedded cluster restarted with pg_stat_statements (track = all)');
  }
  const url = await server.createDatabase('profile');
  await migrate(url);
  const n = DEFAULT_PROFILE_OPERATIONS;
  const walinspect = await withAdmin(url, (c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect').then(() => true, () => false));
  if (!walinspect) notes.push('pg_walinspect could not be created: WAL record types not reported');
  const statStatements = await withAdmin(url, async (c) => {
    const track = (await c.query<{ t: string | null }>("SELECT current_setting('pg_stat_statements.track', true) AS t")).rows[0]?.t;
    if (track !== 'all') return false;
    return c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').then(() => true, () => false);
  });
  if (!statStatements) notes.push('pg_stat_statements is not preloaded with track = all: statement times not reported');

  const tagOf = (path: string, kind: string): string => `${RUN_ID}p${SQL_PATHS.findIndex((p) => p.id === path)}${kind}`;
  await withAdmin(url, (c) =>
    bulkLoad(
      c,
      SQL_PATHS.filter((p) => p.fixture !== 'none').flatMap((p) => [
        { tag: tagOf(p.id, 'w'), count: n },
        { tag: tagOf(p.id, 'm'), count: n },
      ]),
    ),
  );

  const wal: WalRow[] = [];
  const single = openPool(url, 1);
  const multi = openPool(url, DEFAULT_PROFILE_CONCURRENCY);
  try {
    for (const path of SQL_PATHS) {
      const walRun = await withAdmin(url, async (admin) => {
        const start = await lsn(admin);
        await runDriverPath(single, path, { tag: tagOf(path.id, 'w'), concurrency: 1, transactions: n });
        const end = await lsn(admin);
        return { bytes: Number((await admin.query<{ d: string }>('SELECT pg_wal_lsn_diff($2, $1)::bigint AS d', [start, end])).rows[0]?.d), records: walinspect ? await walRecords(admin, start, end) : undefined };
      });
      const multixacts = await withAdmin(url, async (admin) => {
        const before = await mxidAge(admin);
        await runDriverPath(multi, path, { tag: tagOf(path.id, 'm'), concurrency: DEFAULT_PROFILE_CONCURRENCY, transactions: n });
        return (await mxidAge(admin)) - before;
      });
      const recordsPerOp = Object.fromEntries(
        Object.entries(walRun.records?.counts ?? {})
          .map(([type, count]) => [type, round(count / n)] as const)
          .filter(([, perOp]) => perOp >= 0.05),
      );
      wal.push({
        path: path.id,
        walBytesPerOp: round(walRun.bytes / n),
        walRecordBytesPerOp: walRun.records ? round((walRun.bytes - walRun.records.fpi) / n) : undefined,
        recordsPerOp,
        fullPageImageBytesPerOp: walRun.records ? round(walRun.records.fpi / n) : undefined,
        multixactsPerOp: round(multixacts / n),
      });
    }
  } finally {
    await Promise.all([single.end(), multi.end()]);
  }

  const statements = statStatements ? await statementTimes(url, n) : [];
  return { operations: n, wal, statements, notes };
}

async function lsn(client: pg.Client): Promise<string> {
  return (await client.query<{ l: string }>('SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0]?.l ?? '0/0';
}

async function mxidAge(client: pg.Client): Promise<number> {
  return Number((await client.query<{ a: number }>('SELECT mxid_age(datminmxid) AS a FROM pg_database WHERE datname = current_database()')).rows[0]?.a);
}

async function walRecords(client: pg.Client, start: string, end: string): Promise<{ counts: Record<string, number>; fpi: number }> {
  const { rows } = await client.query<{ record_type: string; count: string; fpi_size: string }>(
    'SELECT "resource_manager/record_type" AS record_type, count::bigint, fpi_size::bigint FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, true) WHERE count > 0',
    [start, end],
  );
  return {
    counts: Object.fromEntries(rows.map((r) => [r.record_type, Number(r.count)])),
    fpi: rows.reduce((sum, r) => sum + Number(r.fpi_size), 0),
  };
}

/** register_user_with_token (new address) at concurrency 4, its statements by total time. */
async function statementTimes(url: string, n: number): Promise<StatementRow[]> {
  const path = SQL_PATHS.find((p) => p.id === 'register.function');
  if (!path) return [];
  await withAdmin(url, (c) => c.query('SELECT pg_stat_statements_reset()'));
  const pool = openPool(url, DEFAULT_PROFILE_CONCURRENCY);
  try {
    await runDriverPath(pool, path, { tag: `${RUN_ID}pss`, concurrency: DEFAULT_PROFILE_CONCURRENCY, transactions: n });
  } finally {
    await pool.end();
  }
  return withAdmin(url, async (c) => {
    const { rows } = await c.query<{ query: string; toplevel: boolean; calls: string; total: number; mean: number; dirtied: string; wal_bytes: string }>(
      `SELECT query, toplevel, calls::bigint, total_exec_time AS total, mean_exec_time AS mean, shared_blks_dirtied::bigint AS dirtied, wal_bytes::bigint
         FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls >= $1
        ORDER BY total_exec_time DESC LIMIT 20`,
      [n / 2],
    );
    return rows.map((r) => ({
      query: r.query.replace(/\s+/g, ' ').trim(),
      toplevel: r.toplevel,
      calls: Number(r.calls),
      totalMs: round(r.total),
      meanMs: round(r.mean),
      sharedBlocksDirtied: Number(r.dirtied),
      walBytes: Number(r.wal_bytes),
    }));
  });
}
