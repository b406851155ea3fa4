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
