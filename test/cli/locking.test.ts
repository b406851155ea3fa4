import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireMigrationLock } from '../../src/migrate/advisory-lock.js';
import { runMain } from '../support/cli.js';
import { startCli } from '../support/cli-process.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// The session advisory lock serialises concurrent runs, waits with a timeout
// that names the holder, and --ddl-lock-timeout bounds every statement's wait
// for table locks.

/** Key of the test's gate: a bigint advisory lock (objsubid 1), apart from the migration lock's int4 pair. */
const GATE_KEY = 4_242_001;

const MIGRATIONS = {
  '20260101000001_a': { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' },
  '20260101000002_alter': { up: 'ALTER TABLE a_t ADD COLUMN b int;\n', down: 'ALTER TABLE a_t DROP COLUMN b;\n' },
  // Waits for the test's gate, so the first run keeps the migration lock until the other run waits for it.
  '20260101000003_slow': { up: `CREATE TABLE slow_t (id int);\nSELECT pg_advisory_xact_lock(${GATE_KEY});\n`, down: 'DROP TABLE slow_t;\n' },
};
const NAMES = Object.keys(MIGRATIONS);

let dir: TempDir;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  dir = await writeMigrationDir(MIGRATIONS);
});

afterAll(async () => {
  await Promise.all(databases.map((d) => d.close()));
  await dir.remove();
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  databases.push(db);
  return db;
}

async function withClient<T>(url: string, applicationName: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('two concurrent `migrate up` processes', () => {
  it('apply each migration exactly once; the loser waits, names the holder and applies nothing', async () => {
    const db = await freshDatabase();
    // --ddl-lock-timeout 60s: the gate, a lock wait in the migration, stays shut until the other process has started.
    const args = ['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path, '--ddl-lock-timeout', '60s'];
    const cwd = fileURLToPath(new URL('../..', import.meta.url));

    // However slowly either process starts on a loaded machine, the runs overlap:
    // the first to take the migration lock stops at the gate until the other waits for that lock.
    const [a, b] = await withClient(db.url, 'test gate', async (gate) => {
      await gate.query('SELECT pg_advisory_lock($1::bigint)', [GATE_KEY]);
      const [first, second] = [startCli(args, { cwd }), startCli(args, { cwd })];
      const waits = [first, second].map((run) => run.stderrContains('waiting up to 60.00 s for the migration lock'));
      for (const wait of waits) wait.catch(() => undefined); // only the loser prints it
      await Promise.race(waits);
      await gate.query('SELECT pg_advisory_unlock($1::bigint)', [GATE_KEY]);
      return Promise.all([first.result, second.result]);
    });

    expect([a.code, b.code]).toEqual([0, 0]);
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(NAMES);
    const applied = [a, b].flatMap((r) => [...r.stdout.matchAll(/^applied\s+(\S+)/gm)].map((m) => m[1]));
    expect(applied.sort()).toEqual(NAMES);

    const [winner, loser] = a.stdout === '' ? [b, a] : [a, b];
    expect(winner.stdout.match(/^applied/gm)).toHaveLength(NAMES.length);
    expect(loser.stdout).toBe('');
    expect(loser.stderr).toMatch(/waiting up to 60\.00 s for the migration lock on schema "public" \(held by pid \d+, application "authdb migrate up"/);
    expect(loser.stderr).toContain('nothing to apply, schema is up to date');
    expect(winner.stderr).not.toContain('waiting');
  });
});

describe('--lock-timeout', () => {
  it('gives up with exit 1 and names the holder when another session keeps the lock', async () => {
    const db = await freshDatabase();
    await withClient(db.url, 'test lock holder', async (holder) => {
      const release = await acquireMigrationLock(holder, 'public', { timeoutMs: 0 });
      const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');

      // The holder never lets go: only the 500 ms limit (named in the message, not the default 60 s) ends the wait.
      const result = await runMain(['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path, '--lock-timeout', '500ms']);

      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`held by pid ${rows[0]?.pid ?? '?'}, application "test lock holder"`);
      expect(result.stderr).toMatch(/held the lock for longer than 500 ms .*retry later or raise --lock-timeout \[AUTHDB_LOCK_TIMEOUT\]/);
      await release();
    });
    const { rows } = await db.pool.query(`SELECT to_regclass('public.a_t') AS t`);
    expect(rows).toEqual([{ t: null }]);
  });

  it('is per schema: a run on another schema does not wait', async () => {
    const db = await freshDatabase();
    await withClient(db.url, 'test lock holder', async (holder) => {
      const release = await acquireMigrationLock(holder, 'public', { timeoutMs: 0 });
      const only = ['--to', '20260101000001_a'];
      const result = await runMain(['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path, '--schema', 'other', '--lock-timeout', '0', ...only]);
      expect(result).toMatchObject({ code: 0, stderr: expect.not.stringContaining('waiting') as unknown });
      await release();
    });
  });
});

describe('--ddl-lock-timeout', () => {
  it('makes a migration fail fast with SQLSTATE 55P03 when another transaction holds a conflicting table lock', async () => {
    const db = await freshDatabase();
    const base = ['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path];
    expect((await runMain([...base, '--to', '20260101000001_a'])).code).toBe(0);

    await withClient(db.url, 'test table reader', async (reader) => {
      await reader.query('BEGIN');
      await reader.query('SELECT * FROM a_t'); // ACCESS SHARE until the transaction ends

      // The reader never lets go: only the statement's lock_timeout ends the wait.
      const result = await runMain([...base, '--ddl-lock-timeout', '300ms']);

      await reader.query('ROLLBACK');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${dir.path}/20260101000002_alter.up.sql:1:1: SQLSTATE 55P03: canceling statement due to lock timeout`);
    });
    // That lock_timeout is the flag's 300 ms, not the default 10 s: the run sends exactly the preamble --dry-run shows.
    const planned = await runMain([...base, '--ddl-lock-timeout', '300ms', '--dry-run']);
    expect(planned.stdout).toContain(`-- up 20260101000002_alter (${dir.path}/20260101000002_alter.up.sql)\nBEGIN;\nSET LOCAL search_path TO "public", pg_temp;\nSET LOCAL lock_timeout = 300;\n`);
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(NAMES.slice(0, 1));
  });
});
