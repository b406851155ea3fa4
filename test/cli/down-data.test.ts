import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// A down that drops a table or a column holding data refuses without --force
// (AUTHDB_DOWN_DATA, nothing reverted); authdb's own seed rows do not count;
// --dry-run says which tables and columns hold how many rows. Through the
// built CLI process, on the shipped migrations.

let db: TestDatabase;

beforeAll(async () => {
  db = await createEmptyDatabase();
});

afterAll(async () => {
  await db.close();
});

async function applied(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>(`SELECT name FROM ${schema}.authdb_migrations ORDER BY name`);
  return rows.map((r) => r.name);
}

describe('migrate down with data', () => {
  it('reverts an install that holds only its seed rows without --force', async () => {
    const url = ['--database-url', db.url, '--schema', 'seed_only'];
    expect((await runCli(['migrate', 'up', ...url])).code).toBe(0);
    expect((await db.pool.query('SELECT name FROM seed_only.roles ORDER BY name')).rows).toEqual([{ name: 'admin' }, { name: 'user' }]);

    const dry = await runCli(['migrate', 'down', '--all', '--dry-run', ...url]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("-- data: the tables and columns this would drop hold no rows (beyond authdb's seed rows)");

    const down = await runCli(['migrate', 'down', '--all', ...url]);
    expect(down.stderr).toContain('reverted 6 migration(s)');
    expect(down.code).toBe(0);
    expect((await db.pool.query("SELECT FROM pg_class WHERE relname = 'roles' AND relnamespace = 'seed_only'::regnamespace")).rowCount).toBe(0);
  });

  it('refuses with users present, lists the counts in --dry-run, and drops them with --force', async () => {
    const url = ['--database-url', db.url, '--schema', 'with_users'];
    expect((await runCli(['migrate', 'up', ...url])).code).toBe(0);
    for (const email of ['a@example.com', 'b@example.com']) await db.pool.query('SELECT with_users.register_user_with_token($1)', [email]);
    await db.pool.query("INSERT INTO with_users.roles (name, description, self_assignable) VALUES ('auditor', 'operator-made', false)");
    const before = await applied('with_users');

    const refused = await runCli(['migrate', 'down', '--all', ...url]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('migrate down would drop data; nothing was reverted:');
    expect(refused.stderr).toContain('table "with_users"."users": 2 row(s)');
    expect(refused.stderr).toContain('table "with_users"."email_verification_tokens": 2 row(s)');
    // The seeded roles 'user' and 'admin' do not count; the operator's role does.
    expect(refused.stderr).toContain('table "with_users"."roles": 1 row(s)');
    expect(refused.stderr).toContain('--force');
    expect(refused.stderr).toContain('[AUTHDB_DOWN_DATA]');
    expect(await applied('with_users')).toEqual(before);
    expect((await db.pool.query('SELECT FROM with_users.users')).rowCount).toBe(2);

    // Reverting only the functions drops no data: no --force needed.
    const functions = await runCli(['migrate', 'down', ...url]);
    expect(functions.code).toBe(0);
    expect(await applied('with_users')).toEqual(before.slice(0, -1));

    const dry = await runCli(['migrate', 'down', '--all', '--dry-run', ...url]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('-- data this would drop (the run needs --force; back it up first):\n');
    expect(dry.stdout).toContain('--   table "with_users"."users": 2 row(s)\n');
    expect(dry.stdout).toContain('--   table "with_users"."roles": 1 row(s)\n');

    const forced = await runCli(['migrate', 'down', '--all', '--force', ...url]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('reverted 5 migration(s)');
    expect((await db.pool.query("SELECT FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = 'with_users' AND c.relname = 'users'")).rowCount).toBe(0);
  });
});

describe('what a down drops', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await writeMigrationDir({
      '20260101000001_t': { up: 'CREATE TABLE other.t (id int, note text);\n', down: 'DROP TABLE other.t;\n' },
      '20260101000002_c': { up: 'ALTER TABLE other.t ADD COLUMN extra text;\n', down: 'ALTER TABLE "other".t DROP COLUMN extra;\n' },
    });
    await db.pool.query('CREATE SCHEMA other');
  });

  afterAll(async () => {
    await dir.remove();
  });

  it('counts the non-NULL values of a dropped column, in the schema the statement names', async () => {
    const url = ['--database-url', db.url, '--schema', 'cols', '--migrations-dir', dir.path];
    expect((await runCli(['migrate', 'up', ...url])).code).toBe(0);
    await db.pool.query("INSERT INTO other.t (id, extra) VALUES (1, NULL), (2, NULL)");

    // Rows, but no value in the column: nothing is lost.
    expect((await runCli(['migrate', 'down', '--dry-run', ...url])).stdout).toContain('hold no rows');
    await db.pool.query("UPDATE other.t SET extra = 'kept' WHERE id = 2");

    const refused = await runCli(['migrate', 'down', ...url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('column "other"."t"."extra": 1 row(s) with a value');

    // Both downs: the table's count covers its column.
    const all = await runCli(['migrate', 'down', '--all', '--dry-run', ...url]);
    expect(all.stdout).toContain('--   table "other"."t": 2 row(s)\n');
    expect(all.stdout).not.toContain('column "other"."t"."extra"');

    expect((await runCli(['migrate', 'down', '--all', '--force', ...url])).code).toBe(0);
    expect((await db.pool.query("SELECT to_regclass('other.t') AS t")).rows).toEqual([{ t: null }]);
  });
});
