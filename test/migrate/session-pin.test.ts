import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireMigrationLock } from '../../src/migrate/advisory-lock.js';
import { MigrationError } from '../../src/migrate/errors.js';
import { loadMigrations } from '../../src/migrate/migration-source.js';
import { SqlExecutor } from '../../src/migrate/sql-executor.js';
import { TrackingTable } from '../../src/migrate/tracking-table.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// The checks behind a run's one server session that do not need a pooler to
// fire (test/cli/pooler.test.ts drives them through a real PgBouncer): a
// backend that already holds the migration lock is another client's pooled
// session, and a file that does not run in the lock's backend runs nothing.

let db: TestDatabase;
let client: pg.Client;
let other: pg.Client;
let dir: TempDir;

beforeAll(async () => {
  [db, dir] = await Promise.all([
    createEmptyDatabase(),
    writeMigrationDir({
      '20260101000001_t': { up: 'CREATE TABLE pinned_t (id int);\n', down: 'DROP TABLE pinned_t;\n' },
      '20260101000002_n': { up: '-- authdb:no-transaction\nCREATE TABLE loose_a (id int);\nCREATE TABLE loose_b (id int);\n', down: '-- authdb:no-transaction\nDROP TABLE loose_b;\nDROP TABLE loose_a;\n' },
    }),
  ]);
  client = new pg.Client({ connectionString: db.url });
  other = new pg.Client({ connectionString: db.url });
  await Promise.all([client.connect(), other.connect()]);
});

afterAll(async () => {
  await Promise.all([client.end(), other.end()]);
  await Promise.all([db.close(), dir.remove()]);
});

async function tables(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(`SELECT relname AS name FROM pg_class WHERE relname IN ('pinned_t', 'loose_a', 'loose_b') ORDER BY 1`);
  return rows.map((r) => r.name);
}

async function pidOf(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]?.pid ?? -1;
}

describe('one server session per run', () => {
  it('a backend that already holds the migration lock refuses it instead of re-entering (AUTHDB_UNSTABLE_SESSION)', async () => {
    const release = await acquireMigrationLock(client, 'public', { timeoutMs: 1_000 });
    const again = acquireMigrationLock(client, 'public', { timeoutMs: 1_000 });
    await expect(again).rejects.toThrow(MigrationError);
    await expect(again).rejects.toMatchObject({ code: 'AUTHDB_UNSTABLE_SESSION', message: expect.stringMatching(/already held the migration lock on schema "public"/) as string });
    await release();
    // Released once, it is free again: the refused attempt did not take it a second time.
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(rows[0]?.n).toBe(0);
  });

  it('a file that would run outside the backend holding the lock runs nothing and is not recorded', async () => {
    const tracking = new TrackingTable(client, 'public');
    await tracking.ensure();
    const files = await loadMigrations(dir.path);
    const executor = new SqlExecutor({ client, schema: 'public', tracking, ddlLockTimeoutMs: 1_000, onComplete: () => undefined, sessionPid: await pidOf(other) });
    await executor.prepare(files, 'up');
    for (const file of files) {
      await expect(executor.run(file, 'up')).rejects.toMatchObject({ code: 'AUTHDB_UNSTABLE_SESSION', message: expect.stringContaining(`before ${file.up.path}`) as string });
    }
    expect(await tables()).toEqual([]);
    expect(await tracking.applied()).toEqual([]);
    expect(client.getTransactionStatus()).toBe('I');
  });

  it('runs every file when the session is the one holding the lock', async () => {
    const tracking = new TrackingTable(client, 'public');
    const files = await loadMigrations(dir.path);
    const executor = new SqlExecutor({ client, schema: 'public', tracking, ddlLockTimeoutMs: 1_000, onComplete: () => undefined, sessionPid: await pidOf(client) });
    await executor.prepare(files, 'up');
    for (const file of files) {
      await executor.run(file, 'up');
      await executor.logMigration({ name: file.name });
    }
    expect(await tables()).toEqual(['loose_a', 'loose_b', 'pinned_t']);
  });
});
