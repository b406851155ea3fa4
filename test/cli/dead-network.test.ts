import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { startCli } from '../support/cli-process.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

// A network path that goes dead in the middle of a migration, behind a proxy
// the test owns that stops forwarding but keeps its sockets open (a stuck
// proxy or pooler): the kernel acknowledges everything, so neither TCP
// keepalives nor the dead-client check can see it. The server must still end
// the migration's session (idle_in_transaction_session_timeout, set on every
// authdb session), rolling the file back and releasing the migration lock and
// ACCESS EXCLUSIVE on the table; and the CLI, interrupted, must say only what
// it knows: the cancel request was not acknowledged, and the session may still
// hold its locks — with the query that shows and ends it.

const TABLE = '20260101000001_table';
const SLOW = '20260101000002_slow';
/** Liveness bounds for a loaded 2-core machine, not speed assertions. */
const LIMIT_MS = 240_000;

let dir: TempDir;
let db: TestDatabase;
let proxy: TcpProxy;

beforeAll(async () => {
  dir = await writeMigrationDir({
    [TABLE]: { up: 'CREATE TABLE users_t (id int);\n', down: 'DROP TABLE users_t;\n' },
    [SLOW]: {
      up: 'ALTER TABLE users_t ADD COLUMN nickname text;\nSELECT pg_sleep(2);\nSELECT 1;\n',
      down: 'ALTER TABLE users_t DROP COLUMN nickname;\n',
    },
  });
  db = await createEmptyDatabase();
  expect((await runMain(['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path, '--to', TABLE])).code).toBe(0);
  const url = new URL(db.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
});

afterAll(async () => {
  await proxy.close();
  await db.close();
  await dir.remove();
});

/** Locks held on users_t or any advisory lock, by sessions other than the observer's. */
async function heldLocks(): Promise<string[]> {
  const { rows } = await db.pool.query<{ lock: string }>(
    `SELECT l.locktype || ' ' || l.mode AS lock FROM pg_locks l
      WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (l.locktype = 'advisory' OR l.relation = to_regclass('public.users_t'))
        AND l.pid <> pg_backend_pid()`,
  );
  return rows.map((r) => r.lock);
}

describe('a dead network path mid-migration (a proxy that stops forwarding, sockets open)', { timeout: LIMIT_MS }, () => {
  it('the server ends the session, rolls the file back and releases its locks; the interrupted CLI says what it does not know', async () => {
    const proxied = new URL(db.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const cli = startCli(['migrate', 'up', '--database-url', proxied.toString(), '--migrations-dir', dir.path], { cwd: dir.path });
    let pid = 0;
    await waitFor('the migration to sleep', async () => {
      const { rows } = await db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'authdb migrate up' AND wait_event = 'PgSleep'`,
      );
      pid = rows[0]?.pid ?? 0;
      return pid !== 0;
    }, { limitMs: 120_000 });
    expect(await heldLocks()).toContain('relation AccessExclusiveLock');

    proxy.goDark();
    // The sleep ends, the result reaches only the proxy, and the session waits inside its transaction for a statement that never comes.
    await waitFor('the session to wait idle in its transaction', async () => {
      const { rows } = await db.pool.query<{ state: string }>('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid]);
      return rows[0]?.state === 'idle in transaction';
    }, { limitMs: 60_000 });
    // Without idle_in_transaction_session_timeout it would wait there, holding both locks, for as long as the path stays dead.
    await waitFor('the server to end the session', async () => {
      const { rows } = await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
      return rows.length === 0;
    }, { limitMs: 120_000 });
    expect(await heldLocks()).toEqual([]);
    const { rows: columns } = await db.pool.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute WHERE attrelid = 'public.users_t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    expect(columns.map((c) => c.name)).toEqual(['id']);
    const { rows: recorded } = await db.pool.query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name');
    expect(recorded.map((r) => r.name)).toEqual([TABLE]);

    // The CLI still waits on the dead path. Interrupted, it cannot reach the server: it says so, and never that anything was cancelled.
    cli.child.kill('SIGTERM');
    await cli.stderrContains('the cancel request was not acknowledged');
    cli.child.kill('SIGTERM');
    const result = await cli.result;
    expect(result.code).toBe(143);
    expect(result.stderr).toContain(`pg_terminate_backend(${pid})`);
    expect(result.stderr).toContain('may still hold');
    expect(result.stderr).not.toContain('was cancelled');
  });
});

describe('the connection drops during a statement of a no-transaction file', { timeout: LIMIT_MS }, () => {
  it('names the line that was running, says its outcome is unknown, and how to find the INVALID index CREATE INDEX CONCURRENTLY may have left', async () => {
    const INDEX = '20260101000003_index';
    const files = await writeMigrationDir({
      [TABLE]: { up: 'CREATE TABLE idx_t (id int);\n', down: 'DROP TABLE idx_t;\n' },
      [INDEX]: {
        up: '-- authdb:no-transaction\nCREATE TABLE kept_nt (id int);\nCREATE INDEX CONCURRENTLY idx_t_id ON idx_t (id);\n',
        down: '-- authdb:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS idx_t_id;\nDROP TABLE kept_nt;\n',
      },
    });
    const target = await createEmptyDatabase();
    const url = new URL(target.url);
    const cut = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    const writer = await target.pool.connect();
    try {
      expect((await runMain(['migrate', 'up', '--database-url', target.url, '--migrations-dir', files.path, '--to', TABLE])).code).toBe(0);
      // An open writing transaction: CREATE INDEX CONCURRENTLY creates its (INVALID) index, then waits for it.
      await writer.query('BEGIN');
      await writer.query('INSERT INTO idx_t VALUES (1)');
      url.hostname = '127.0.0.1';
      url.port = String(cut.port);
      const cli = startCli(['migrate', 'up', '--database-url', url.toString(), '--migrations-dir', files.path], { cwd: files.path });
      await waitFor('CREATE INDEX CONCURRENTLY to wait for the writer', async () => {
        const { rows } = await target.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'CREATE INDEX CONCURRENTLY%'`);
        return rows.length === 1;
      }, { limitMs: 120_000 });

      await cut.close();
      const result = await cli.result;

      expect(result.stderr).toContain(`the connection to the server was lost while running ${INDEX}`);
      expect(result.stderr).toContain('the statements before line 3 were kept; the one at line 3 may have completed, failed or still be running on the server');
      expect(result.stderr).toContain(`the statement at line 3 is CREATE INDEX CONCURRENTLY, which leaves an INVALID index when it does not finish`);
      expect(result.stderr).toContain(`indrelid = '"public"."idx_t"'::regclass`);
      expect(result.stderr).toContain('DROP INDEX CONCURRENTLY IF EXISTS "public"."idx_t_id";');
      expect(result.stderr).toContain('[AUTHDB_CONNECTION_LOST]');
      expect(result.code).toBe(1);
      await writer.query('ROLLBACK');
      // Line 2's table stays; line 3's index is there, valid or INVALID depending on whether the server saw the client go
      // before the writer let the build finish — the message cannot know, and says so; the file is not recorded.
      await waitFor('the dead session to end', async () => {
        const { rows } = await target.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%'`);
        return rows.length === 0;
      }, { limitMs: 120_000 });
      const { rows } = await target.pool.query(`SELECT to_regclass('public.kept_nt') IS NOT NULL AS kept, to_regclass('public.idx_t_id') IS NOT NULL AS index`);
      expect(rows).toEqual([{ kept: true, index: true }]);
      const { rows: recorded } = await target.pool.query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name');
      expect(recorded.map((r) => r.name)).toEqual([TABLE]);
    } finally {
      writer.release();
      await cut.close().catch(() => undefined);
      await target.close();
      await files.remove();
    }
  });
});
