import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRATCH_PREFIX } from '../../src/contract/scratch-database.js';
import { runMain } from '../support/cli.js';
import { createEmptyDatabase, databaseUrl, type TestDatabase } from '../support/database.js';
import { writeMigrationDir, type FixtureMigration, type TempDir } from '../support/migration-fixtures.js';

// `migrate verify-reversible` applies up, down, up for every migration on a
// scratch database and compares snapshots. The scratch database is created
// on the server of --database-url and dropped afterwards, even on failure.

const TABLE = '20260101000001_table';
const INDEX = '20260101000002_index';
const GOOD: Record<string, FixtureMigration> = {
  [TABLE]: { up: 'CREATE TABLE t (id int PRIMARY KEY, email text NOT NULL);', down: 'DROP TABLE t;' },
  [INDEX]: { up: 'CREATE INDEX t_email_idx ON t (email);', down: 'DROP INDEX t_email_idx;' },
};

const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
const dirs: TempDir[] = [];
const databases: TestDatabase[] = [];

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await Promise.all([...dirs.map((d) => d.remove()), ...databases.map((d) => d.close())]);
  await admin.end();
});

async function fixture(migrations: Record<string, FixtureMigration>): Promise<string> {
  const dir = await writeMigrationDir(migrations);
  dirs.push(dir);
  return dir.path;
}

// The scratch database a run named on stderr. Other test files run verify-reversible and baseline
// on the same server at the same time, so the test looks for its own run's database only.
function scratchName(stderr: string): string {
  const name = new RegExp(`scratch database (${SCRATCH_PREFIX}[0-9a-f]{12}) \\(dropped afterwards\\)`).exec(stderr)?.[1];
  expect(name, stderr).toBeDefined();
  return name ?? '';
}

async function databaseExists(name: string): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rowCount === 1;
}

function verify(dir: string | undefined, ...args: string[]): ReturnType<typeof runMain> {
  return runMain(['migrate', 'verify-reversible', '--database-url', databaseUrl('postgres'), ...(dir === undefined ? [] : ['--migrations-dir', dir]), ...args]);
}

// Generous limit: CLI runs that create, migrate and drop scratch databases on a shared, loaded machine (or a 2-core CI) take far longer than on a quiet one.
describe('authdb migrate verify-reversible', { timeout: 180_000 }, () => {
  it("proves authdb's own migrations reversible", async () => {
    const result = await verify(undefined);
    expect(result.stdout.match(/^reversible /gm)).toHaveLength(6);
    expect(result.code).toBe(0);
  });

  it('passes fixture migrations whose downs undo their ups, and drops its scratch database', async () => {
    const result = await verify(await fixture(GOOD));
    expect(result.stdout).toBe(`reversible ${TABLE}\nreversible ${INDEX}\n`);
    expect(result.code).toBe(0);
    expect(await databaseExists(scratchName(result.stderr))).toBe(false);
  });

  it('names the migration whose down forgets an index, shows the index, and still drops the scratch database', async () => {
    const dir = await fixture({ ...GOOD, [INDEX]: { up: GOOD[INDEX]?.up ?? '', down: '-- forgot the index\n' } });
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`reversible ${TABLE}\n`);
    expect(result.stdout).toContain(`NOT REVERSIBLE ${INDEX}: its down file does not restore the schema as it was before its up file`);
    expect(result.stdout).toContain(`down: ${dir}/${INDEX}.down.sql`);
    expect(result.stdout).toContain(
      '+ index t_email_idx  (left behind by the down migration: absent before up)\n' +
        '    definition: "CREATE INDEX t_email_idx ON t USING btree (email)"\n' +
        '    table: "t"\n' +
        '    valid: true',
    );
    expect(result.stderr).toContain(`${INDEX} is not reversible; 1 migration(s) before it passed`);
    expect(await databaseExists(scratchName(result.stderr))).toBe(false);
  });

  it('reports a down that drops too much (a column the up did not add)', async () => {
    const dir = await fixture({
      ...GOOD,
      [INDEX]: { up: 'ALTER TABLE t ADD COLUMN nickname text;', down: 'ALTER TABLE t DROP COLUMN nickname, DROP COLUMN email;' },
    });
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('- column t.email  (present before up, gone after down)');
  });

  it('reports an up that does not reproduce itself after its down', async () => {
    // The up depends on state outside the schema that its down leaves behind.
    const up = `DO $$ BEGIN
      IF to_regclass('elsewhere.marker') IS NULL THEN
        CREATE SCHEMA IF NOT EXISTS elsewhere; CREATE TABLE elsewhere.marker (); CREATE TABLE first_run ();
      ELSE CREATE TABLE second_run (); END IF; END $$;`;
    const dir = await fixture({ ...GOOD, [INDEX]: { up, down: 'DROP TABLE IF EXISTS first_run; DROP TABLE IF EXISTS second_run;' } });
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`NOT REVERSIBLE ${INDEX}: applying it again after its down file does not give the schema its first up gave`);
    expect(result.stdout).toContain('- table first_run  (only after the first up)');
    expect(result.stdout).toContain('+ table second_run  (only after down and up again)');
  });

  it('reports a down that fails, with its file and line', async () => {
    const dir = await fixture({ ...GOOD, [INDEX]: { up: GOOD[INDEX]?.up ?? '', down: 'DROP INDEX t_email_idx;\nSELECT no_such_column FROM t;' } });
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`FAILED ${INDEX}: .*${INDEX}\\.down\\.sql:2:8: SQLSTATE 42703: column "no_such_column" does not exist`));
  });

  it('uses an empty database given with --scratch-url and leaves it in place; refuses a non-empty one', async () => {
    const scratch = await createEmptyDatabase();
    databases.push(scratch);
    const dir = await fixture(GOOD);
    const ok = await verify(dir, '--scratch-url', scratch.url);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('given with --scratch-url; left in place');
    const { rows } = await scratch.pool.query<{ name: string }>('SELECT name FROM authdb_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual([TABLE, INDEX]);

    const again = await verify(dir, '--scratch-url', scratch.url);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the scratch database is not empty: schema "public" has 2 applied migration\(s\).*\[AUTHDB_SCRATCH\]/s);
  });
});
