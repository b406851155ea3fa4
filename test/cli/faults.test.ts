import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ENTRY, cleanEnv, runMain, type CliResult } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { waitFor } from '../support/wait.js';

// Faults while a migration runs, with real processes: SIGINT/SIGTERM to the
// CLI, kill -9 of the CLI, and the server ending the session. The running
// migration takes ACCESS EXCLUSIVE on a table and then sleeps for a minute;
// every test waits for that state in pg_stat_activity before striking.

const TABLE = '20260101000001_table';
const SLOW = '20260101000002_slow';
const NT = '20260101000002_slow_nt';
const STUBBORN = '20260101000002_stubborn';
const BETWEEN = '20260101000002_between';
/** A statement that swallows one cancel and ends normally: the signal's cancel request lands while no statement runs. */
const SWALLOWS_CANCEL = `DO $$ BEGIN PERFORM pg_sleep(60); EXCEPTION WHEN query_canceled THEN NULL; END $$;\n`;
const SLEEP_S = 60;
const APP = 'authdb migrate up';
/** Per test: a CLI process, a server and a wait for the migration to sleep (see waitFor) on a loaded machine. */
const LIMIT_MS = 240_000;
/** Waits for a CLI process to start and reach its migration: on a loaded 2-core machine that took over 30 s. */
const START_LIMIT_MS = 120_000;

let transactional: TempDir;
let noTransaction: TempDir;
let stubborn: TempDir;
let between: TempDir;
let betweenNoTransaction: TempDir;
const databases: TestDatabase[] = [];

beforeAll(async () => {
  const table = { up: 'CREATE TABLE users_t (id int);\n', down: 'DROP TABLE users_t;\n' };
  [transactional, noTransaction, stubborn, between, betweenNoTransaction] = await Promise.all([
    writeMigrationDir({
      [TABLE]: table,
      [SLOW]: {
        up: `ALTER TABLE users_t ADD COLUMN nickname text;\nLOCK TABLE users_t IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(${SLEEP_S});\n`,
        down: 'ALTER TABLE users_t DROP COLUMN nickname;\n',
      },
    }),
    writeMigrationDir({
      [TABLE]: table,
      [NT]: { up: `-- authdb:no-transaction\nCREATE TABLE kept_t (id int);\nSELECT pg_sleep(${SLEEP_S});\n`, down: 'DROP TABLE kept_t;\n' },
    }),
    writeMigrationDir({
      [TABLE]: table,
      // Swallows cancel requests and sleeps on: the CLI stays "cancelling".
      [STUBBORN]: {
        up:
          'ALTER TABLE users_t ADD COLUMN nickname text;\n' +
          // Every cancel is caught, however many arrive; only the closed connection ends it (FATAL).
          `DO $$ BEGIN FOR i IN 1..100 LOOP BEGIN PERFORM pg_sleep(${SLEEP_S}); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$;\n`,
        down: 'ALTER TABLE users_t DROP COLUMN nickname;\n',
      },
    }),
    writeMigrationDir({
      [TABLE]: table,
      // More statements after the one that swallows the cancel than one round trip sends (they go in pipelines).
      [BETWEEN]: {
        up: `ALTER TABLE users_t ADD COLUMN nickname text;\n${SWALLOWS_CANCEL}${'SELECT 1;\n'.repeat(1200)}CREATE TABLE after_t (id int);\n`,
        down: 'DROP TABLE after_t;\n',
      },
    }),
    writeMigrationDir({
      [TABLE]: table,
      [BETWEEN]: { up: `-- authdb:no-transaction\nCREATE TABLE kept_t (id int);\n${SWALLOWS_CANCEL}CREATE TABLE after_t (id int);\n`, down: 'DROP TABLE after_t;\n' },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([...databases.map((d) => d.close()), ...[transactional, noTransaction, stubborn, between, betweenNoTransaction].map((d) => d.remove())]);
});

/** A database with the first migration applied. */
async function prepared(dir: TempDir): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  databases.push(db);
  expect((await runMain(['migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path, '--to', TABLE])).code).toBe(0);
  return db;
}

interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  /** What it printed on stderr so far. */
  readonly stderr: () => string;
}

function startUp(db: TestDatabase, dir: TempDir): Running {
  const child = spawn(process.execPath, [CLI_ENTRY, 'migrate', 'up', '--database-url', db.url, '--migrations-dir', dir.path], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr });
    });
  });
  return { child, done, stderr: () => stderr };
}

/**
 * The migration's `pg_sleep` runs, holding the migration lock (and, when transactional, the table lock).
 * Waits for the sleep itself (wait event PgSleep), not just the statement that contains it: a cancel
 * that reached the stubborn DO block before it entered its exception block would not be caught.
 */
async function sleeping(db: TestDatabase, run: Promise<CliResult>): Promise<number> {
  let ended: CliResult | undefined;
  void run.then((result) => (ended = result), () => undefined);
  let pid = 0;
  await waitFor('the migration to sleep', async () => {
    // A run that ended cannot sleep any more: say how it ended instead of waiting out the limit.
    if (ended) throw new Error(`the CLI ended (exit ${ended.code}) before its migration slept; stderr:\n${ended.stderr}`);
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%' AND wait_event = 'PgSleep'`,
      [APP],
    );
    pid = rows[0]?.pid ?? 0;
    return pid !== 0;
  }, { limitMs: START_LIMIT_MS });
  return pid;
}

/** Advisory locks and locks on users_t held by anyone in this database. */
async function heldLocks(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ lock: string }>(
    `SELECT l.locktype || ' ' || l.mode AS lock FROM pg_locks l
      WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (l.locktype = 'advisory' OR l.relation = to_regclass('public.users_t'))
        AND l.pid <> pg_backend_pid()
      ORDER BY 1`,
  );
  return rows.map((r) => r.lock);
}

async function recorded(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name');
  return rows.map((r) => r.name);
}

async function columns(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = 'public.users_t'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  return rows.map((r) => r.name);
}

describe('SIGINT and SIGTERM during a migration', { timeout: LIMIT_MS }, () => {
  /** Starts `up` on a fresh database, waits until the fixture's statement sleeps, sends the signal and waits for the exit. */
  async function interruptedWhileSleeping(fixture: TempDir, signal: NodeJS.Signals) {
    const db = await prepared(fixture);
    const run = startUp(db, fixture);
    await sleeping(db, run.done);
    run.child.kill(signal);
    return { db, result: await run.done };
  }

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: cancels the statement, rolls the migration back, releases the locks, says so and exits ${code}`, async () => {
      const db = await prepared(transactional);
      const run = startUp(db, transactional);
      await sleeping(db, run.done);
      expect(await heldLocks(db)).toContain('relation AccessExclusiveLock');

      const signalled = performance.now();
      run.child.kill(signal);
      const result = await run.done;
      console.log(`${signal}: the CLI exited ${((performance.now() - signalled) / 1000).toFixed(2)} s after the signal`);

      expect(result.stderr).toContain(`authdb: ${signal} received: cancelling the running statement of ${SLOW}`);
      expect(result.stderr).toContain(`interrupted by ${signal} while running ${SLOW} (up: ${transactional.path}/${SLOW}.up.sql)`);
      expect(result.stderr).toContain(`nothing of ${SLOW} was kept, and it is not recorded as applied`);
      expect(result.stderr).toContain('the migration lock was released [AUTHDB_INTERRUPTED]');
      expect(result.code).toBe(code);
      // Checked as soon as the process is gone: nothing waits for the sleep to end.
      expect(await heldLocks(db)).toEqual([]);
      expect(await recorded(db)).toEqual([TABLE]);
      expect(await columns(db)).toEqual(['id']);
    });
  }

  it('a no-transaction file: says which statements were kept', async () => {
    const { db, result } = await interruptedWhileSleeping(noTransaction, 'SIGTERM');

    expect(result.stderr).toContain(`interrupted by SIGTERM while running ${NT}`);
    // The line appears once the executor reports the line of errors without a server position.
    expect(result.stderr).toMatch(
      /runs outside a transaction \(-- authdb:no-transaction\), so the statements (before line 3 were kept and the one at line 3 was not|that completed before it were kept), and \S+ is not recorded as applied/,
    );
    expect(result.code).toBe(143);
    expect(await heldLocks(db)).toEqual([]);
    expect(await recorded(db)).toEqual([TABLE]);
    const { rows } = await db.pool.query(`SELECT to_regclass('public.kept_t') IS NOT NULL AS kept`);
    expect(rows).toEqual([{ kept: true }]);
  });

  // Without a check between statements the file ran on to after_t and committed: exit 0 (issue 18 §5).
  it('a signal whose cancel lands while no statement runs stops the file before its next statement, and rolls it back', async () => {
    const { db, result } = await interruptedWhileSleeping(between, 'SIGINT');

    expect(result.stderr).toContain(`interrupted by SIGINT while running ${BETWEEN}`);
    // Statements go in pipelines (one round trip each): the run stops before the next one, well before after_t (line 1203).
    const stop = /the run stopped before the statement at line (\d+) and its transaction rolled back: nothing of (\S+) was kept/.exec(result.stderr);
    expect(stop?.[2]).toBe(BETWEEN);
    expect(Number(stop?.[1])).toBeGreaterThan(2);
    expect(Number(stop?.[1])).toBeLessThan(1203);
    expect(result.code).toBe(130);
    expect(await heldLocks(db)).toEqual([]);
    expect(await recorded(db)).toEqual([TABLE]);
    expect(await columns(db)).toEqual(['id']);
    const { rows } = await db.pool.query(`SELECT to_regclass('public.after_t') AS after`);
    expect(rows).toEqual([{ after: null }]);
  });

  it('the same in a no-transaction file: the statements before the stop are kept, the rest never run', async () => {
    const { db, result } = await interruptedWhileSleeping(betweenNoTransaction, 'SIGTERM');

    expect(result.stderr).toContain('the run stopped before the statement at line 4; ');
    expect(result.stderr).toContain(`the statements before line 4 were kept and the one at line 4 was not, and ${BETWEEN} is not recorded as applied`);
    expect(result.code).toBe(143);
    expect(await heldLocks(db)).toEqual([]);
    expect(await recorded(db)).toEqual([TABLE]);
    const { rows } = await db.pool.query(`SELECT to_regclass('public.kept_t') IS NOT NULL AS kept, to_regclass('public.after_t') AS after`);
    expect(rows).toEqual([{ kept: true, after: null }]);
  });

  it('a second signal while cancelling exits at once', async () => {
    const db = await prepared(stubborn);
    const run = startUp(db, stubborn);
    await sleeping(db, run.done);

    run.child.kill('SIGINT');
    await waitFor('the CLI to start cancelling', () => run.stderr().includes('SIGINT received'), { limitMs: START_LIMIT_MS });
    run.child.kill('SIGINT');
    const result = await run.done;

    expect(result.stderr).toContain('authdb: SIGINT again: exiting at once');
    expect(result.code).toBe(130);
    // The server still rolls back: the cancel request went out, or it sees the closed connection.
    await waitFor('the locks to go', async () => (await heldLocks(db)).length === 0, { limitMs: 20_000 });
    expect(await recorded(db)).toEqual([TABLE]);
    expect(await columns(db)).toEqual(['id']);
  });
});

describe('kill -9 of the CLI', { timeout: LIMIT_MS }, () => {
  it('the server notices the dead client and releases the migration lock and the table lock long before the statement would end', async () => {
    const db = await prepared(transactional);
    const run = startUp(db, transactional);
    await sleeping(db, run.done);
    expect((await heldLocks(db)).length).toBeGreaterThan(0);

    run.child.kill('SIGKILL');
    await run.done;
    // Without the dead-client check the locks stay for the whole pg_sleep(60).
    const releasedAfterMs = await waitFor('the locks to go', async () => (await heldLocks(db)).length === 0, { limitMs: 20_000 });

    console.log(`kill -9: migration lock and table lock released ${(releasedAfterMs / 1000).toFixed(2)} s after the CLI died`);
    expect(await recorded(db)).toEqual([TABLE]);
    expect(await columns(db)).toEqual(['id']);
  });
});

describe('the server ends the session (pg_terminate_backend)', { timeout: LIMIT_MS }, () => {
  it("reports the server's SQLSTATE and message, the file, what was kept, and exits 1", async () => {
    const db = await prepared(transactional);
    const result = runMain(['migrate', 'up', '--database-url', db.url, '--migrations-dir', transactional.path]);
    const pid = await sleeping(db, result);

    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const { code, stderr } = await result;

    expect(stderr).toContain(`the connection to the server was lost while running ${SLOW} (up: ${transactional.path}/${SLOW}.up.sql): SQLSTATE 57P01: terminating connection due to administrator command`);
    expect(stderr).toContain(`nothing of ${SLOW} was kept, and it is not recorded as applied`);
    expect(stderr).toContain('[AUTHDB_CONNECTION_LOST]');
    expect(stderr).not.toContain('not queryable');
    expect(code).toBe(1);
    expect(await heldLocks(db)).toEqual([]);
    expect(await recorded(db)).toEqual([TABLE]);
  });
});
