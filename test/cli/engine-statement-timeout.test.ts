// A role's or database's statement_timeout that cancels one of authdb's own
// statements (not a migration's) names that statement's purpose, where the
// setting comes from and how to lift it, instead of a bare 57014.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
const SCHEMA = 'timed';

beforeAll(async () => {
  db = await createEmptyDatabase();
  expect((await runMain(['migrate', 'up', '--database-url', db.url, '--schema', SCHEMA])).code).toBe(0);
  await db.pool.query(`ALTER DATABASE ${db.name} SET statement_timeout = '300ms'`);
});

afterAll(async () => {
  await db.close();
});

/** Runs `work` while another session holds ACCESS EXCLUSIVE on the tracking table: authdb's read of its history waits, and the timeout ends it. */
async function whileHistoryLocked<T>(work: () => Promise<T>): Promise<T> {
  const holder = new pg.Client({ connectionString: db.url, options: '-c statement_timeout=0' });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${SCHEMA}.authdb_migrations IN ACCESS EXCLUSIVE MODE`);
    return await work();
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
}

const LIFT = "Lift it for authdb's runs only: PGOPTIONS='-c statement_timeout=0' (or a larger value) in the environment of authdb";

describe("statement_timeout on authdb's own statements", { timeout: 120_000 }, () => {
  it('migrate down: names the history read, the database setting and the fix; nothing was migrated', async () => {
    const result = await whileHistoryLocked(() => runMain(['migrate', 'down', '--database-url', db.url, '--schema', SCHEMA]));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`statement_timeout cancelled one of authdb's own statements, while reading the migration history (authdb_migrations of schema "${SCHEMA}") (SQLSTATE 57014`);
    expect(result.stderr).toContain(`statement_timeout is 300ms for this session: it is set on the database "${db.name}" (ALTER DATABASE "${db.name}" SET statement_timeout = '300ms')`);
    expect(result.stderr).toContain(LIFT);
    expect(result.stderr).toContain('Nothing was migrated. [AUTHDB_STATEMENT_TIMEOUT]');
  });

  it('migrate up: names the search for other installs', async () => {
    const result = await whileHistoryLocked(() => runMain(['migrate', 'up', '--database-url', db.url, '--schema', SCHEMA]));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("statement_timeout cancelled one of authdb's own statements, while looking for other installs of authdb in this database");
    expect(result.stderr).toContain(LIFT);
    expect(result.stderr).toContain('[AUTHDB_STATEMENT_TIMEOUT]');
  });

  it('with the lock gone, the same settings run', async () => {
    const result = await runMain(['migrate', 'up', '--database-url', db.url, '--schema', SCHEMA]);
    expect(result.code).toBe(0);
  });
});
