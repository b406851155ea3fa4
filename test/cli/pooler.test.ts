import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROBE_HOLD_MS } from '../../src/migrate/session-stability.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';

// Through a pooler in transaction mode, the session advisory lock, its
// unlock and the session settings reach different backends. authdb refuses
// such a connection before the first migration; a session-mode pool works.
// Needs a real PgBouncer (Debian's package; `.ci/run` installs it).

const BIN = findPgBouncer();
if (BIN === undefined) {
  console.warn('SKIPPED test/cli/pooler.test.ts: pgbouncer is not installed (apt-get install -y pgbouncer); the pooler tests did not run');
}

const FIRST = '20260101000001_a';

let db: TestDatabase;
let dir: TempDir;
let bouncer: PgBouncer;

beforeAll(async () => {
  if (BIN === undefined) return;
  [db, dir] = await Promise.all([
    createEmptyDatabase(),
    writeMigrationDir({
      [FIRST]: { up: 'CREATE TABLE a_t (id int);\n', down: 'DROP TABLE a_t;\n' },
      '20260101000002_index': {
        up: '-- authdb:no-transaction\nCREATE INDEX CONCURRENTLY a_t_id_idx ON a_t (id);\n',
        down: '-- authdb:no-transaction\nDROP INDEX CONCURRENTLY a_t_id_idx;\n',
      },
    }),
  ]);
  bouncer = await startPgBouncer(BIN, db.url);
});

afterAll(async () => {
  if (BIN === undefined) return;
  await bouncer.stop();
  await Promise.all([db.close(), dir.remove()]);
});

async function advisoryLocks(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows[0]?.n ?? -1;
}

async function relations(): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

describe.skipIf(BIN === undefined)('PgBouncer', () => {
  it('transaction mode: migrate up and down refuse before the first migration, change nothing and leak no lock', async () => {
    for (const args of [['migrate', 'up'], ['migrate', 'up', '--schema', 'auth'], ['migrate', 'down']]) {
      const result = await runMain([...args, '--database-url', bouncer.transactionUrl, '--migrations-dir', dir.path]);
      expect(result.stderr).toMatch(/server session/);
      expect(result.stderr).toContain('connect directly to PostgreSQL, or through a session-mode pool');
      expect(result.stderr).toContain('Nothing was migrated. [AUTHDB_UNSTABLE_SESSION]');
      expect(result.stdout).toBe('');
      expect(result.code).toBe(1);
    }
    expect(await relations()).toEqual([]);
    expect(await advisoryLocks()).toBe(0);
  });

  // Concurrent runs are each other's "other clients": one can take another's
  // backend between two statements and hide a hand-over from a single check
  // (a run once got through that way and applied both files). Every round
  // must refuse every run.
  it('concurrent runs through the transaction pool are all refused, round after round', async () => {
    const args = ['migrate', 'up', '--database-url', bouncer.transactionUrl, '--migrations-dir', dir.path];
    for (let round = 0; round < 8; round++) {
      const results = await Promise.all([runMain(args), runMain(args), runMain(args)]);
      expect(results.map((r) => r.code)).toEqual([1, 1, 1]);
      for (const r of results) expect(r.stderr).toContain('[AUTHDB_UNSTABLE_SESSION]');
      expect(await relations()).toEqual([]);
      expect(await advisoryLocks()).toBe(0);
    }
  });

  it('statement mode: migrate up refuses, changes nothing and leaks no lock', async () => {
    const result = await runMain(['migrate', 'up', '--database-url', bouncer.statementUrl, '--migrations-dir', dir.path, '--schema', 'stmt']);
    expect(result.stderr).toContain('[AUTHDB_UNSTABLE_SESSION]');
    expect(result.code).toBe(1);
    expect(await relations()).toEqual([]);
    expect(await advisoryLocks()).toBe(0);
  });

  it('session mode: concurrent runs take turns; one applies, the others wait and find nothing to apply', async () => {
    const args = ['migrate', 'up', '--database-url', bouncer.sessionUrl, '--migrations-dir', dir.path, '--schema', 'turns'];
    const results = await Promise.all([runMain(args), runMain(args), runMain(args)]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(results.filter((r) => r.stderr.includes('applied 2 migration(s)'))).toHaveLength(1);
    expect(await relations()).toEqual(['turns.a_t', 'turns.a_t_id_idx', 'turns.authdb_migrations', 'turns.authdb_migrations_pkey']);
    expect((await runMain(['migrate', 'down', '--all', ...args.slice(2)])).code).toBe(0);
    await db.pool.query('DROP SCHEMA turns CASCADE');
    expect(await advisoryLocks()).toBe(0);
  });

  it('session mode: migrate up, status and down work through the pool', async () => {
    const base = ['--database-url', bouncer.sessionUrl, '--migrations-dir', dir.path, '--schema', 'auth'];
    const up = await runMain(['migrate', 'up', ...base]);
    expect(up.stderr).toContain('applied 2 migration(s) (schema "auth")');
    expect(up.code).toBe(0);
    expect(await relations()).toEqual(['auth.a_t', 'auth.a_t_id_idx', 'auth.authdb_migrations', 'auth.authdb_migrations_pkey']);
    expect((await runMain(['migrate', 'down', '--all', ...base])).code).toBe(0);
    expect(await advisoryLocks()).toBe(0);
  });
});

// A pool of one server connection: the probe session can never have a
// backend of its own while another client holds the only one.
describe.skipIf(BIN === undefined)('PgBouncer with a pool of one', () => {
  let small: PgBouncer;
  beforeAll(async () => {
    if (BIN !== undefined) small = await startPgBouncer(BIN, db.url, { poolSize: 1 });
  });
  afterAll(async () => {
    if (BIN !== undefined) await small.stop();
  });

  it('session mode: migrate up and down work (the probe waits for a backend, is given up, and holds nothing)', async () => {
    const base = ['--database-url', small.sessionUrl, '--migrations-dir', dir.path, '--schema', 'one'];
    const up = await runMain(['migrate', 'up', ...base]);
    expect(up.stderr).toContain('applied 2 migration(s) (schema "one")');
    expect(up.code).toBe(0);
    const down = await runMain(['migrate', 'down', '--all', ...base]);
    expect(down.code).toBe(0);
    await db.pool.query('DROP SCHEMA one CASCADE');
    expect(await advisoryLocks()).toBe(0);
  });

  // The probe cannot get the only backend in time and the pid never changes:
  // what gives the pool away is another client's transaction numbered in our
  // backend between two of our statements (pg_locks' virtualxid).
  it('transaction mode, another client in long transactions: refused, nothing migrated', async () => {
    const state = { stop: false };
    const other = (async () => {
      const client = new pg.Client({ connectionString: small.transactionUrl });
      client.on('error', () => undefined);
      await client.connect();
      while (!state.stop) {
        await client.query(`BEGIN; SELECT pg_catalog.pg_sleep(${(DEFAULT_PROBE_HOLD_MS + 1_000) / 1000}); COMMIT`).catch(() => undefined);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await client.end().catch(() => undefined);
    })();
    let result: Awaited<ReturnType<typeof runMain>>;
    try {
      result = await runMain(['migrate', 'up', '--database-url', small.transactionUrl, '--migrations-dir', dir.path, '--schema', 'busy']);
    } finally {
      state.stop = true;
      await other;
    }
    expect(result.stderr).toContain('Nothing was migrated. [AUTHDB_UNSTABLE_SESSION]');
    expect(result.code).toBe(1);
    expect((await relations()).filter((name) => name.startsWith('busy.'))).toEqual([]);
    expect(await advisoryLocks()).toBe(0);
  }, 180_000);
});
