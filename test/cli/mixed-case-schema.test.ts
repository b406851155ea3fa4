import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type TempDir } from '../support/migration-fixtures.js';

// `--schema MyAuth` is the exact schema "MyAuth" for every command: no command
// folds it to "myauth" (as `to_regnamespace('MyAuth')` does), even when a
// lower-case twin exists next to it.

const SCHEMA = 'MyAuth';
const TWIN = 'myauth';

let db: TestDatabase;
let forgetful: TempDir;

beforeAll(async () => {
  db = await createEmptyDatabase();
  forgetful = await writeMigrationDir({
    '20260101000001_table': { up: 'CREATE TABLE t (id int);\n', down: 'DROP TABLE t;\n' },
    // The down file forgets to drop the index its up file creates.
    '20260101000002_index': { up: 'CREATE INDEX t_id_idx ON t (id);\n', down: 'SELECT 1;\n' },
  });
});

afterAll(async () => {
  await Promise.all([db.close(), forgetful.remove()]);
});

function cli(...args: string[]): ReturnType<typeof runMain> {
  return runMain([...args, '--database-url', db.url, '--schema', SCHEMA]);
}

describe('--schema MyAuth', () => {
  it('migrate up, status, validate, dry-run and codegen --check all work on "MyAuth"', async () => {
    const up = await cli('migrate', 'up');
    expect(up.stderr).toContain(`(schema "${SCHEMA}")`);
    expect(up.code).toBe(0);
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "MyAuth".authdb_migrations`);
    expect(rows[0]?.n).toBeGreaterThan(0);

    const status = await cli('migrate', 'status', '--json');
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { state: string }[]).every((s) => s.state === 'applied')).toBe(true);
    expect(await cli('migrate', 'validate')).toMatchObject({ code: 0 });
    expect(await cli('migrate', 'up', '--dry-run')).toMatchObject({ code: 0 });
    const codegen = await cli('codegen', '--check', '--out', 'src/client/database-types.ts');
    expect(codegen.stderr).toContain('is up to date');
    expect(codegen.code).toBe(0);
  });

  it('schema dump and schema check read "MyAuth", not a lower-case twin, and see its drift', async () => {
    // A twin "myauth", identical at first; then drift in "MyAuth" only.
    expect((await runMain(['migrate', 'up', '--database-url', db.url, '--schema', TWIN, '--allow-second-install'])).code).toBe(0);
    const clean = await cli('schema', 'check');
    expect(clean.stderr).toContain('schema "MyAuth" matches');
    expect(clean.code).toBe(0);

    await db.pool.query('ALTER TABLE "MyAuth".users ADD COLUMN nickname text');
    const dump = await cli('schema', 'dump');
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('"column users.nickname"');
    const drift = await cli('schema', 'check');
    expect(drift.stdout).toContain('+ column users.nickname');
    expect(drift.code).toBe(1);
    await db.pool.query('ALTER TABLE "MyAuth".users DROP COLUMN nickname');
  });

  it('schema check of a missing mixed-case schema says it does not exist, even when its lower-case twin does', async () => {
    const result = await runMain(['schema', 'check', '--database-url', db.url, '--schema', 'MYAUTH']);
    expect(result.stderr).toContain('schema "MYAUTH" does not exist');
    expect(result.stderr).toContain('[AUTHDB_SCHEMA_NOT_FOUND]');
    expect(result.code).toBe(1);
  });

  it('verify-reversible catches a down file that forgets to undo its up', async () => {
    const result = await cli('migrate', 'verify-reversible', '--migrations-dir', forgetful.path);
    expect(result.stdout).toContain('NOT REVERSIBLE 20260101000002_index');
    expect(result.stdout).toContain('+ index t_id_idx');
    expect(result.code).toBe(1);
  });

  it('migrate down reverts "MyAuth" and leaves the twin alone', async () => {
    const down = await cli('migrate', 'down', '--all');
    expect(down.code).toBe(0);
    const { rows } = await db.pool.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'users' ORDER BY 1`,
    );
    expect(rows).toEqual([{ schema: TWIN }]);
  });
});
